{ Free Pascal test of Segur.pas against the sandbox (fpc -Mdelphi):
    segur_test <segur.toml> <run-tag> <vsm-request.json> <ANS VSM_1.4_2022.01.xml>
  Prints "ok N - ..." / "not ok N - ..." per assertion and, last, "pascal: P passed, F failed".
  The *Async methods (TSegurAsyncCall) are tested next to their blocking twins. }
program segur_test;

{$mode delphi}{$H+}

uses
  cthreads, cwstring, SysUtils, Classes, SyncObjs, Segur;

var
  Passed, Failed: Integer;

procedure Check(Cond: Boolean; const Name: string);
begin
  if Cond then
  begin
    Inc(Passed);
    WriteLn('ok ', Passed + Failed, ' - ', Name);
  end
  else
  begin
    Inc(Failed);
    WriteLn('not ok ', Passed + Failed, ' - ', Name);
  end;
end;

function ReadBytes(const Path: string): TBytes;
var
  F: TFileStream;
begin
  Result := nil;
  F := TFileStream.Create(Path, fmOpenRead or fmShareDenyWrite);
  try
    SetLength(Result, F.Size);
    if F.Size > 0 then
      F.ReadBuffer(Result[0], F.Size);
  finally
    F.Free;
  end;
end;

function BytesOf8(const S: UTF8String): TBytes;
begin
  Result := nil;
  SetLength(Result, Length(S));
  if Length(S) > 0 then
    Move(S[1], Result[0], Length(S));
end;

function TextOf8(const B: TBytes): string;
var
  U: UTF8String;
begin
  SetLength(U, Length(B));
  if Length(B) > 0 then
    Move(B[0], U[1], Length(B));
  Result := string(U);
end;

{ The id of the first and second items of a ParsedDocument JSON ("id":"<block>:<entry>","kind"). }
function ItemId(const Json: string; N: Integer): string;
var
  P, E: Integer;
  Rest: string;
begin
  Result := '';
  Rest := Copy(Json, Pos('"items":[', Json), MaxInt);
  while N > 0 do
  begin
    P := Pos('{"id":"', Rest);
    if P = 0 then
      Exit;
    Rest := Copy(Rest, P + 7, MaxInt);
    E := Pos('"', Rest);
    if Copy(Rest, E, 10) = '","kind":"' then
    begin
      Dec(N);
      if N = 0 then
        Result := Copy(Rest, 1, E - 1);
    end;
  end;
end;

const
  ACTOR = '{"user":"pascal","rpps":"10000000001"}';
  ADRDEUX = '{"nom_naissance":"ADRDEUX","prenoms":"LAURENT","sexe":"M","date_naissance":"1981-01-01"}';
  HOUILLES = '{"nom_naissance":"HOUILLES","prenoms":"PIERRE PAUL JACQUES","sexe":"M","date_naissance":"1993-01-27"}';
  ADRUN = '{"nom_naissance":"ADRUN","prenoms":"ZOE","sexe":"F","date_naissance":"1975-12-31"}';
  TCHITCHI = '{"nom_naissance":"TCHITCHI","prenoms":"CATARINA","sexe":"F","date_naissance":"1936-06-21"}';
  NESSI = '{"nom_naissance":"NESSI","prenoms":"NATHALIE","sexe":"F","date_naissance":"1977-07-14"}';
  OTHER_PS = '{"id_nat":"810000002237","nom":"AUTRE","prenom":"Alex","profession":"10"}';

{ The value of the first "Name":"value" field of a JSON text. }
function JsonField(const Json, Name: string): string;
var
  P, E: Integer;
  Rest: string;
begin
  Result := '';
  P := Pos('"' + Name + '":"', Json);
  if P = 0 then
    Exit;
  Rest := Copy(Json, P + Length(Name) + 4, MaxInt);
  E := Pos('"', Rest);
  if E > 0 then
    Result := Copy(Rest, 1, E - 1);
end;

{ Creates Id and qualifies it (INSi CR 00, then an identity card). }
function Qualify(Client: TSegurClient; const Id, Traits: string): Boolean;
begin
  Client.IdentityCreate(Id, Traits, False, ACTOR);
  Result := (Pos('"code":"00"', Client.IdentitySearchInsi(Id, ACTOR)) > 0) and
    (Pos('"status":"QUAL"', Client.IdentityAddDocument(Id, 'CN', ACTOR)) > 0);
end;

type
  { OnComplete handlers of the asynchronous tests (run on library worker threads). }
  THandler = class
  public
    Count: Integer;        { OnDone calls (interlocked) }
    OnWorker: Boolean;     { the last OnDone ran off the main thread }
    SeenCode: Cardinal;    { Call.Code read inside the last OnDone }
    SeenValue: string;     { Call.Value (or the error's code) read inside the last OnDone }
    SeenDone: Boolean;     { Call.Done read inside the last OnDone }
    BlockingCode: Cardinal; { the code of a blocking call made inside OnBlocking }
    Client: TSegurClient;
    Gate: TEvent;          { OnGated waits for it }
    constructor Create(AClient: TSegurClient);
    destructor Destroy; override;
    procedure OnDone(Call: TSegurAsyncCall);
    procedure OnGated(Call: TSegurAsyncCall);
    procedure OnBlocking(Call: TSegurAsyncCall);
  end;

constructor THandler.Create(AClient: TSegurClient);
begin
  inherited Create;
  Client := AClient;
  Gate := TEvent.Create(nil, True, False, '');
end;

destructor THandler.Destroy;
begin
  Gate.Free;
  inherited Destroy;
end;

procedure THandler.OnDone(Call: TSegurAsyncCall);
begin
  OnWorker := GetCurrentThreadId <> MainThreadID;
  SeenCode := Call.Code;
  SeenDone := Call.Done;
  try
    SeenValue := Call.Value;
  except
    on E: ESegurError do SeenValue := IntToStr(E.Code);
  end;
  InterlockedIncrement(Count);
end;

procedure THandler.OnGated(Call: TSegurAsyncCall);
begin
  Gate.WaitFor(60000);
end;

procedure THandler.OnBlocking(Call: TSegurAsyncCall);
begin
  BlockingCode := 0;
  try
    Client.InsiSearch(ADRDEUX, False, ACTOR);
  except
    on E: ESegurError do BlockingCode := E.Code;
  end;
end;

{ The code of the ESegurError raised by Call.Value (0 when none); Proposal, Subcode, Message and
  Details of it in Extra (joined by '|'). }
function ValueError(Call: TSegurAsyncCall; out Extra: string): Cardinal;
begin
  Result := 0;
  Extra := '';
  try
    Call.Value;
  except
    on E: ESegurError do
    begin
      Result := E.Code;
      Extra := E.Proposal + '|' + E.Subcode + '|' + E.Message + '|' + E.Details;
    end;
  end;
end;

var
  Client, Client2: TSegurClient;
  H: THandler;
  Call: TSegurAsyncCall;
  Calls: array[0..2] of TSegurAsyncCall;
  I, N: Integer;
  Extra, Extra2, Uid2: string;
  S, Id, Confirm, Request, FileName, DmpId, Uid, Sub: string;
  Xml, Pdf, Got: TBytes;
  Bad: UTF8String;
  Code: Cardinal;
begin
  Passed := 0;
  Failed := 0;
  if ParamCount < 4 then
  begin
    WriteLn('usage: segur_test <segur.toml> <run-tag> <vsm-request.json> <VSM_1.4_2022.01.xml>');
    Halt(2);
  end;

  Check(TSegur.AbiVersion = SEGUR_HEADER_ABI_VERSION, 'abi version');
  Check(Pos('segur-ffi/', TSegur.Version) = 1, 'version');

  S := TSegur.CheckMatricule('1810163220751');
  Check((Pos('"181016322075140"', S) > 0) and (Pos('computed', S) > 0), 'check matricule');
  Check(TSegur.Normalize15('181016322075140') = '181016322075140', 'normalize15');
  Check(Pos('"valid"', TSegur.CheckMatricule('1810163220751', '40')) > 0, 'check matricule with key');

  Code := 0;
  try
    TSegur.CheckMatricule('181016322075141');
  except
    on E: ESegurError do Code := E.Code;
  end;
  Check(Code = SEGUR_RESULT_INVALID_INPUT, 'wrong key raises code 100');

  { D’ÆION needs confirmation. }
  SetLength(Bad, 8);
  Bad[1] := 'D'; Bad[2] := AnsiChar($E2); Bad[3] := AnsiChar($80); Bad[4] := AnsiChar($99);
  Bad[5] := AnsiChar($C3); Bad[6] := AnsiChar($86); Bad[7] := 'I'; Bad[8] := 'O';
  Confirm := string(Bad) + 'N';
  Code := 0;
  S := '';
  try
    TSegur.Normalize(SEGUR_FIELD_NOM_NAISSANCE, Confirm, False);
  except
    on E: ESegurError do
    begin
      Code := E.Code;
      S := E.Proposal;
    end;
  end;
  Check(Code = SEGUR_RESULT_NEEDS_CONFIRMATION, 'normalize needing confirmation raises code 101');
  Check(S = 'D''AEION', 'exception carries the proposal');
  Check(TSegur.Normalize(SEGUR_FIELD_NOM_NAISSANCE, Confirm, True) = 'D''AEION', 'normalize with confirm');

  Code := 0;
  try
    TSegur.Normalize(42, 'X', False);
  except
    on E: ESegurError do Code := E.Code;
  end;
  Check(Code = SEGUR_RESULT_UNKNOWN_ENUM_VALUE, 'unknown field raises code 5');

  SetLength(Bad, 3);
  Bad[1] := AnsiChar($31);
  Bad[2] := AnsiChar($C3);
  Bad[3] := AnsiChar($28);
  Code := 0;
  try
    TSegur.CheckMatriculeUtf8(Bad);
  except
    on E: ESegurError do Code := E.Code;
  end;
  Check(Code = SEGUR_RESULT_INVALID_UTF8, 'invalid UTF-8 raises code 2');

  Code := 0;
  try
    TSegurClient.Create('/nonexistent/segur.toml').Free;
  except
    on E: ESegurError do Code := E.Code;
  end;
  Check(Code = SEGUR_RESULT_CONFIG, 'missing configuration raises code 400');

  Client := TSegurClient.Create(ParamStr(1));
  try
    Id := 'pas-' + ParamStr(2);
    Code := 0;
    try
      Client.IdentityCreate(Id, '{"nom_naissance": ', False, ACTOR);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_JSON, 'malformed JSON raises code 4');

    Code := 0;
    try
      Client.IdentityCreateUtf8(UTF8String(Id), Bad, False, ACTOR);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_UTF8, 'invalid UTF-8 JSON raises code 2');

    S := Client.IdentityCreate(Id, ADRDEUX, False, ACTOR);
    Check(Pos('"status":"PROV"', S) > 0, 'identity create: PROV');
    S := Client.IdentitySearchInsi(Id, ACTOR);
    Check((Pos('"code":"00"', S) > 0) and (Pos('"status":"RECUP"', S) > 0), 'INSi search: CR 00, RECUP');
    S := Client.IdentityAddDocument(Id, 'CN', ACTOR);
    Check(Pos('"status":"QUAL"', S) > 0, 'add document CN: QUAL');
    Check(Pos('"status":"QUAL"', Client.IdentityGet(Id)) > 0, 'identity get: QUAL');

    S := Client.InsiSearch(HOUILLES, False, ACTOR);
    Check(Pos('"code":"01"', S) > 0, 'INSi search HOUILLES: CR 01');

    { Asynchronous INSi (segur_*_async through TSegurAsyncCall). }
    H := THandler.Create(Client);
    try
      Call := Client.InsiSearchAsync(ADRDEUX, False, ACTOR);
      try
        S := Call.Value;
        Check(Pos('"code":"00"', S) > 0, 'async INSi search ADRDEUX: CR 00');
        Check(Call.Done and Call.WaitFor(0) and (Call.Code = SEGUR_RESULT_OK), 'async call: Done, WaitFor(0), code 0');
        Check(Call.Value = S, 'async Value read twice: the same JSON');
      finally
        Call.Free;
      end;

      Client.IdentityCreate('pas-as-' + ParamStr(2), ADRDEUX, False, ACTOR);
      Call := Client.IdentitySearchInsiAsync('pas-as-' + ParamStr(2), ACTOR, H.OnDone);
      try
        S := Call.Value;
        Check((Pos('"code":"00"', S) > 0) and (Pos('"status":"RECUP"', S) > 0),
          'async identity INSi search: CR 00, RECUP');
        Check(Call.WaitFor(60000) and (H.Count = 1), 'OnComplete called once');
        Check(H.OnWorker, 'OnComplete runs on a library worker thread');
        Check((H.SeenCode = SEGUR_RESULT_OK) and (H.SeenValue = S) and not H.SeenDone,
          'inside OnComplete: Code and Value ready, Done still False');
      finally
        Call.Free;
      end;
      Check(Pos('"status":"RECUP"', Client.IdentityGet('pas-as-' + ParamStr(2))) > 0,
        'async identity INSi search recorded: RECUP');

      Call := Client.InsiSearchAsync('{"nom_naissance":"' + Confirm + '","prenoms":"JEAN","sexe":"M",' +
        '"date_naissance":"1980-01-01"}', False, ACTOR, H.OnDone);
      try
        Code := ValueError(Call, Extra);
        Check(Code = SEGUR_RESULT_NEEDS_CONFIRMATION, 'async error through Value: code 101');
        Check(Copy(Extra, 1, Pos('|', Extra) - 1) = 'D''AEION', 'async error: the proposal');
        Check((Pos('segur error 101: ', Extra) > 0) and (Pos('"proposal"', Extra) > 0),
          'async error: message and details');
        Check((ValueError(Call, Extra2) = Code) and (Extra2 = Extra), 'async error raised again by a second Value');
        Check(Call.Code = SEGUR_RESULT_NEEDS_CONFIRMATION, 'async error: Code 101');
        Check(Call.WaitFor(60000) and (H.Count = 2) and (H.SeenValue = '101'),
          'OnComplete called on failure, Value raising there too');
      finally
        Call.Free;
      end;
      Call := Client.IdentitySearchInsiAsync('no-such-ipp', ACTOR);
      try
        Check(ValueError(Call, Extra) = SEGUR_RESULT_NOT_FOUND, 'async unknown identity: code 103 through Value');
      finally
        Call.Free;
      end;

      Code := 0;
      try
        Client.InsiSearchAsync('{"nom_naissance": ', False, ACTOR, H.OnDone).Free;
      except
        on E: ESegurError do Code := E.Code;
      end;
      Check((Code = SEGUR_RESULT_INVALID_JSON) and (H.Count = 2), 'async start refused: code 4 raised at once, no OnComplete');

      { Several calls in flight at once. }
      N := H.Count;
      Calls[0] := Client.InsiSearchAsync(ADRDEUX, False, ACTOR, H.OnDone);
      Calls[1] := Client.InsiSearchAsync(HOUILLES, False, ACTOR, H.OnDone);
      Calls[2] := Client.InsiSearchAsync(ADRDEUX, False, ACTOR, H.OnDone);
      try
        Check((Pos('"code":"00"', Calls[0].Value) > 0) and (Pos('"code":"01"', Calls[1].Value) > 0) and
          (Pos('"code":"00"', Calls[2].Value) > 0), 'three async INSi searches in flight: CR 00, 01, 00');
        Check(Calls[0].WaitFor(60000) and Calls[1].WaitFor(60000) and Calls[2].WaitFor(60000) and
          (H.Count = N + 3), 'three OnComplete calls');
      finally
        for I := 0 to 2 do
          Calls[I].Free;
      end;

      { WaitFor: False until OnComplete returns (held here by a gate). }
      H.Gate.ResetEvent;
      Call := Client.InsiSearchAsync(ADRDEUX, False, ACTOR, H.OnGated);
      try
        Check(not Call.WaitFor(0) and not Call.Done, 'WaitFor(0) before completion: False, not Done');
        Check(Pos('"code":"00"', Call.Value) > 0, 'Value ready while OnComplete runs');
        Check(not Call.WaitFor(200) and not Call.Done, 'WaitFor(200) while OnComplete runs: False after the timeout');
        H.Gate.SetEvent;
        Check(Call.WaitFor(60000) and Call.Done, 'WaitFor once OnComplete returned: True, Done');
      finally
        H.Gate.SetEvent;
        Call.Free;
      end;

      { Free before completion waits for it (OnComplete included). }
      N := H.Count;
      Client.InsiSearchAsync(HOUILLES, False, ACTOR, H.OnDone).Free;
      Check(H.Count = N + 1, 'Free of a pending call waits for its OnComplete');

      { A blocking call inside OnComplete: 901. }
      Call := Client.InsiSearchAsync(ADRDEUX, False, ACTOR, H.OnBlocking);
      try
        Check(Call.WaitFor(60000) and (H.BlockingCode = SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK),
          'a blocking call inside OnComplete raises code 901');
      finally
        Call.Free;
      end;

      { Freeing the client completes its pending calls: cancelled (7), or 300 when the shutdown
        cut the HTTP exchange short first, or 0 when already answered. }
      N := H.Count;
      Client2 := TSegurClient.Create(ParamStr(1));
      Call := Client2.InsiSearchAsync(ADRDEUX, False, ACTOR, H.OnDone);
      try
        Client2.Free;
        Check(Call.Done and (H.Count = N + 1), 'freeing the client completes its pending call');
        Check((Call.Code = SEGUR_RESULT_OK) or (Call.Code = SEGUR_RESULT_CANCELLED) or
          (Call.Code = SEGUR_RESULT_TRANSPORT), 'a call pending at client free: code 7 (cancelled), 300 or 0');
      finally
        Call.Free;
      end;
    finally
      H.Free;
    end;

    Code := 0;
    try
      Client.IdentityGet('no-such-ipp');
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_NOT_FOUND, 'unknown identity raises code 103');

    S := Client.JournalQuery('{"patient_local_id":"' + Id + '"}');
    Check(Pos('"ins":"181016322075140"', S) > 0, 'journal query');
    Check(Pos('id,at,', Client.JournalExportCsv('{}')) = 1, 'journal CSV export');

    { Documents: a VSM for the qualifiée identity Id (the request's patient IPP-0001 replaced). }
    Request := StringReplace(TextOf8(ReadBytes(ParamStr(3))), '"patient": "IPP-0001"',
      '"patient": "' + Id + '"', []);
    Check(Pos(Id, Request) > 0, 'VSM request read, patient replaced');
    S := Client.CdaVsmBuild(Request, Xml);
    Check((Pos('"with_ins":true', S) > 0) and (Pos('ClinicalDocument', TextOf8(Xml)) > 0),
      'VSM build: with INS, XML returned');
    S := TSegur.CdaParse(Xml);
    Check((ItemId(S, 1) <> '') and (ItemId(S, 2) <> ''), 'CDA parse: items');
    S := TSegur.CdaIntegrate(Xml, '["' + ItemId(S, 1) + '","' + ItemId(S, 2) + '"]');
    Check(Pos('"version"', S) > 0, 'CDA integrate two items');
    Check(Pos('181016322075140', TSegur.CdaMetadata(Xml)) > 0, 'CDA metadata: the INS');
    Pdf := TSegur.CdaPdf(Xml, FileName);
    Check((Length(Pdf) > 5) and (TextOf8(Copy(Pdf, 0, 5)) = '%PDF-') and
      (Copy(FileName, Length(FileName) - 3, 4) = '.pdf'), 'CDA PDF copy and file name');
    Check(Pos('"items":[', TSegur.CdaParse(ReadBytes(ParamStr(4)))) > 0, 'CDA parse ANS example');

    Code := 0;
    try
      TSegur.CdaParse(BytesOf8('<html xmlns="http://www.w3.org/1999/xhtml"/>'));
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_DOCUMENT, 'non-CDA XML raises code 105');
    Code := 0;
    try
      TSegur.CdaPdf(nil, FileName);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_DOCUMENT, 'empty document raises code 105');
    Code := 0;
    try
      Client.CdaVsmBuild('{"patient":', Xml);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_JSON, 'malformed VSM request raises code 4');
    Code := 0;
    try
      Client.CdaVsmBuild(StringReplace(Request, '"patient": "' + Id + '"', '"patient": "no-such-ipp"', []), Xml);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_NOT_FOUND, 'VSM for an unknown patient raises code 103');

    { DMP: status -> authorize -> send -> dashboard (ADRUN ZOE, the configured practitioner). }
    DmpId := 'pas-dmp-' + ParamStr(2);
    Check(Qualify(Client, DmpId, ADRUN), 'DMP: ADRUN qualifiee');
    Check(Client.IdentityByIns('275126322074974') = DmpId, 'identity by INS: the local id');
    S := Client.DmpStatus(DmpId);
    Check((Pos('"exists":true', S) > 0) and (Pos('"can_feed":true', S) > 0) and
      (Pos('"authorization":"NON_AUTORISE"', S) > 0), 'DMP status: exists, can feed, NON_AUTORISE');
    Code := 0;
    Sub := '';
    try
      Client.DmpFind(DmpId, '{}');
    except
      on E: ESegurError do
      begin
        Code := E.Code;
        Sub := E.Subcode;
      end;
    end;
    Check((Code = SEGUR_RESULT_SERVICE_REFUSED) and (Sub = 'DMP_ACCES_NON_AUTORISE'),
      'DMP find before authorization raises code 202, subcode DMP_ACCES_NON_AUTORISE');
    Code := 0;
    try
      Client.DmpStatus(DmpId, '{"id_nat":');
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_INVALID_JSON, 'DMP status with a malformed practitioner raises code 4');
    Check(Client.DmpAuthorize(DmpId, '{"mode":"oral"}') = '{"authorization":"AUTORISE"}',
      'DMP authorize with consent: AUTORISE');
    Check(Pos('"id_nat":"810000001239"', Client.DmpAuthorizations(DmpId)) > 0, 'DMP authorizations: ours');
    Request := StringReplace(TextOf8(ReadBytes(ParamStr(3))), '"patient": "IPP-0001"',
      '"patient": "' + DmpId + '"', []);
    Client.CdaVsmBuild(Request, Xml);
    S := Client.DmpSend(DmpId, Xml);
    Uid := JsonField(S, 'unique_id');
    Check((Pos('"status":"accessible"', S) > 0) and (Uid <> ''), 'DMP send: accessible');
    S := Client.DmpDashboard('{"patient_local_id":"' + DmpId + '"}');
    Check((Pos(Uid, S) > 0) and (Pos('"status_label":"Accessible dans le DMP"', S) > 0),
      'DMP dashboard: Accessible dans le DMP');
    Check(Pos(Uid, Client.DmpFind(DmpId, '{"type_codes":["SYNTH"]}')) > 0, 'DMP find: ours');
    Check(JsonField(Client.DmpLatestVsm(DmpId), 'unique_id') = Uid, 'DMP latest VSM: ours');
    S := Client.DmpGet(DmpId, Uid, Got);
    Check((Pos(Uid, S) > 0) and (Length(Got) = Length(Xml)) and (TextOf8(Got) = TextOf8(Xml)),
      'DMP get: the same bytes');
    Check(Pos('"warnings":[]', Client.DmpUpdate(DmpId, Uid, 'mask')) > 0, 'DMP update mask');
    Check(Pos('MASQUE_PS', Client.DmpDashboard('{}')) > 0, 'DMP dashboard: masked');
    Code := 0;
    try
      Client.DmpFind(DmpId, '{}', OTHER_PS);
    except
      on E: ESegurError do Code := E.Code;
    end;
    Check(Code = SEGUR_RESULT_SERVICE_REFUSED, 'DMP find as another practitioner raises code 202');

    { The DMP, asynchronously (still authorised). }
    Call := Client.DmpStatusAsync(DmpId);
    try
      Check(Pos('"authorization":"AUTORISE"', Call.Value) > 0, 'async DMP status: AUTORISE');
    finally
      Call.Free;
    end;
    Client.CdaVsmBuild(Request, Xml);
    Call := Client.DmpSendAsync(DmpId, Xml);
    try
      S := Call.Value;
      Uid2 := JsonField(S, 'unique_id');
      Check((Pos('"status":"accessible"', S) > 0) and (Uid2 <> '') and (Uid2 <> Uid),
        'async DMP send: accessible, a new document');
    finally
      Call.Free;
    end;
    Calls[0] := Client.DmpFindAsync(DmpId, '{"type_codes":["SYNTH"]}');
    Calls[1] := Client.DmpStatusAsync(DmpId);
    Calls[2] := Client.DmpFindAsync(DmpId, '{}', OTHER_PS);
    try
      Check(Pos(Uid2, Calls[0].Value) > 0, 'async DMP find: the new document');
      Check(Pos('"exists":true', Calls[1].Value) > 0, 'async DMP status in flight alongside: exists');
      Code := ValueError(Calls[2], Extra);
      Check((Code = SEGUR_RESULT_SERVICE_REFUSED) and (Pos('|DMP_', Extra) > 0),
        'async DMP find as another practitioner: code 202 and subcode through Value');
    finally
      for I := 0 to 2 do
        Calls[I].Free;
    end;
    Check(Pos('"AUTORISE"', Client.DmpRevoke(DmpId)) = 0, 'DMP revoke: no longer AUTORISE');

    { A patient who opposed feeding: code 106, the document kept as failed. }
    Check(Qualify(Client, 'pas-tc-' + ParamStr(2), TCHITCHI), 'DMP: TCHITCHI qualifiee');
    Request := StringReplace(TextOf8(ReadBytes(ParamStr(3))), '"patient": "IPP-0001"',
      '"patient": "pas-tc-' + ParamStr(2) + '"', []);
    Client.CdaVsmBuild(Request, Xml);
    Code := 0;
    Sub := '';
    try
      Client.DmpSend('pas-tc-' + ParamStr(2), Xml);
    except
      on E: ESegurError do
      begin
        Code := E.Code;
        Sub := E.NotSentReason;
      end;
    end;
    Check(Code = SEGUR_RESULT_NOT_SENT, 'DMP send with an opposition raises code 106');
    Check(Sub = 'feeding_opposed', 'DMP send with an opposition: reason feeding_opposed');

    { DMP/CONF.01: the DMP knows NESSI NATHALIE as RUTH: 106 traits_mismatch, confirmed, retried. }
    Check(Qualify(Client, 'pas-nn-' + ParamStr(2), NESSI), 'DMP: NESSI qualifiee');
    Request := StringReplace(TextOf8(ReadBytes(ParamStr(3))), '"patient": "IPP-0001"',
      '"patient": "pas-nn-' + ParamStr(2) + '"', []);
    Client.CdaVsmBuild(Request, Xml);
    Sub := '';
    S := '';
    try
      Client.DmpSend('pas-nn-' + ParamStr(2), Xml);
    except
      on E: ESegurError do
      begin
        Sub := E.NotSentReason;
        S := E.Details;
      end;
    end;
    Check(Sub = 'traits_mismatch', 'DMP send with a traits mismatch: reason traits_mismatch');
    Check(Pos('"fields":["prenoms"]', S) > 0, 'DMP traits mismatch: the field in the details');
    Check(Pos('"prenoms"', Client.DmpConfirmTraits('pas-nn-' + ParamStr(2))) > 0,
      'DMP confirm traits: prenoms');
    Uid := JsonField(Client.DmpDashboard('{"patient_local_id":"pas-nn-' + ParamStr(2) + '"}'), 'unique_id');
    Check(JsonField(Client.DmpRetry(Uid), 'status') = 'accessible', 'DMP retry after confirmation: accessible');
    Check(Pos('"status":"failed"', Client.DmpDashboard('{"status":"failed"}')) > 0,
      'DMP dashboard: the refused document kept, failed');
  finally
    Client.Free;
  end;

  WriteLn('pascal: ', Passed, ' passed, ', Failed, ' failed');
  if Failed > 0 then
    Halt(1);
end.
