{ Segur.pas — Delphi / Free Pascal binding of libsegur (the C ABI in include/segur.h).

  - The flat imports (cdecl, names and parameters exactly as in segur.h) are GENERATED from the
    header between the markers below; ffi/tests/pascal_in_sync.rs keeps them in sync.
  - Result codes are Cardinal constants (SEGUR_RESULT_OK = 0); strings cross as UTF-8 pointer +
    length (UTF8String locals that live until the call returns); rich data as JSON text.
  - TSegur (stateless functions) and TSegurClient wrap the imports and raise ESegurError
    (Code, Message, Proposal, Details) on failure. Documents (CDA XML, PDF) cross as TBytes:
    the XML's own encoding declaration applies. Buffers returned by the library are always
    released with segur_buf_free, never with FreeMem.
  - FPC on Unix: put cthreads (and cwstring) first in the program's uses clause. With FPC,
    `string` is an AnsiString: this unit makes UTF-8 the default code page at initialisation
    (as Lazarus does) so that strings pass unchanged; under Delphi `string` is UTF-16 and is
    converted with UTF8String / UTF8ToString.
  - Asynchronous calls (the segur_*_async imports): TSegurClient.*Async methods return a
    TSegurAsyncCall (WaitFor, Done, Code, Value, optional OnComplete). They use SyncObjs' TEvent
    (FPC: the fcl-base package, Debian fp-units-fcl) and set IsMultiThread, since the library
    calls back on its own threads.
  - Library name: 'segur' (libsegur.so / segur.dll / libsegur.dylib). }
unit Segur;

{$IFDEF FPC}
  {$mode delphi}{$H+}
  {$PACKRECORDS C}
{$ENDIF}

interface

uses
  SysUtils, {$IFDEF FPC}SyncObjs{$ELSE}System.SyncObjs{$ENDIF};

const
{$IFDEF MSWINDOWS}
  SEGUR_LIB = 'segur.dll';
{$ELSE}
  SEGUR_LIB = 'segur';
{$ENDIF}

type
  TSegurResult = Cardinal;
  { Opaque handles (see segur.h for ownership). }
  PSegurBuf = type Pointer;
  PPSegurBuf = ^PSegurBuf;
  PSegurClient = type Pointer;
  PPSegurClient = ^PSegurClient;
  { Completion callback: called once on a library worker thread; Data is borrowed (valid during
    the call, nil on failure). The body must not let an exception escape. }
  TSegurCallback = procedure(user_data: Pointer; code: TSegurResult; data: PSegurBuf); cdecl;

{ BEGIN GENERATED from include/segur.h by ffi/tests/pascal_in_sync.rs: do not edit, run SEGUR_BLESS=1 cargo test -p segur-ffi --test pascal_in_sync }

const
  SEGUR_VERSION_MAJOR = Cardinal(0);
  SEGUR_VERSION_MINOR = Cardinal(1);
  SEGUR_VERSION_PATCH = Cardinal(0);
  SEGUR_HEADER_ABI_VERSION = Cardinal(1);
  SEGUR_RESULT_OK = Cardinal(0);
  SEGUR_RESULT_NULL_PARAMETER = Cardinal(1);
  SEGUR_RESULT_INVALID_UTF8 = Cardinal(2);
  SEGUR_RESULT_INSUFFICIENT_SIZE = Cardinal(3);
  SEGUR_RESULT_INVALID_JSON = Cardinal(4);
  SEGUR_RESULT_UNKNOWN_ENUM_VALUE = Cardinal(5);
  SEGUR_RESULT_PANIC = Cardinal(6);
  SEGUR_RESULT_CANCELLED = Cardinal(7);
  SEGUR_RESULT_INVALID_INPUT = Cardinal(100);
  SEGUR_RESULT_NEEDS_CONFIRMATION = Cardinal(101);
  SEGUR_RESULT_RNIV_REFUSED = Cardinal(102);
  SEGUR_RESULT_NOT_FOUND = Cardinal(103);
  SEGUR_RESULT_ALREADY_EXISTS = Cardinal(104);
  SEGUR_RESULT_INVALID_DOCUMENT = Cardinal(105);
  SEGUR_RESULT_NOT_SENT = Cardinal(106);
  SEGUR_RESULT_TOO_LARGE = Cardinal(107);
  SEGUR_RESULT_SERVICE_FAULT = Cardinal(200);
  SEGUR_RESULT_INVALID_REPLY = Cardinal(201);
  SEGUR_RESULT_SERVICE_REFUSED = Cardinal(202);
  SEGUR_RESULT_TRANSPORT = Cardinal(300);
  SEGUR_RESULT_TIMEOUT = Cardinal(301);
  SEGUR_RESULT_TLS = Cardinal(302);
  SEGUR_RESULT_CONFIG = Cardinal(400);
  SEGUR_RESULT_JOURNAL = Cardinal(500);
  SEGUR_RESULT_INTERNAL = Cardinal(900);
  SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK = Cardinal(901);
  SEGUR_FIELD_NOM_NAISSANCE = Cardinal(1);
  SEGUR_FIELD_PRENOM = Cardinal(2);
  SEGUR_FIELD_PREMIER_PRENOM = Cardinal(3);
  SEGUR_FIELD_NOM_UTILISE = Cardinal(4);
  SEGUR_FIELD_PRENOM_UTILISE = Cardinal(5);
  SEGUR_KEY_STATUS_VALID = Cardinal(1);
  SEGUR_KEY_STATUS_COMPUTED = Cardinal(2);
  SEGUR_KEY_STATUS_MISMATCH = Cardinal(3);
  SEGUR_ATTRIBUTE_DOUTEUSE = Cardinal(1);
  SEGUR_ATTRIBUTE_FICTIVE = Cardinal(2);
  SEGUR_ATTRIBUTE_HOMONYME = Cardinal(3);

function segur_version: PAnsiChar; cdecl; external SEGUR_LIB;
function segur_abi_version: Cardinal; cdecl; external SEGUR_LIB;
function segur_result_str(code: Cardinal): PAnsiChar; cdecl; external SEGUR_LIB;
function segur_last_error_message(buf: PAnsiChar; cap: NativeUInt; out_len: PNativeUInt): TSegurResult; cdecl; external SEGUR_LIB;
function segur_last_error_details(details_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_buf_data(buf: PSegurBuf): PByte; cdecl; external SEGUR_LIB;
function segur_buf_len(buf: PSegurBuf): NativeUInt; cdecl; external SEGUR_LIB;
procedure segur_buf_free(buf: PSegurBuf); cdecl; external SEGUR_LIB;
function segur_cda_vsm_build(client: PSegurClient; request_json: PByte; request_json_len: NativeUInt; document_out: PPSegurBuf; xml_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_cda_parse(xml: PByte; xml_len: NativeUInt; parsed_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_cda_integrate(xml: PByte; xml_len: NativeUInt; selection_json: PByte; selection_json_len: NativeUInt; summary_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_cda_metadata(xml: PByte; xml_len: NativeUInt; metadata_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_cda_pdf(xml: PByte; xml_len: NativeUInt; pdf_out: PPSegurBuf; file_name_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_client_open(config_path: PByte; config_path_len: NativeUInt; client_out: PPSegurClient): TSegurResult; cdecl; external SEGUR_LIB;
procedure segur_client_free(client: PSegurClient); cdecl; external SEGUR_LIB;
function segur_identity_create(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; input_json: PByte; input_json_len: NativeUInt; confirm: Boolean; actor_json: PByte; actor_json_len: NativeUInt; identity_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_get(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; identity_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_edit_traits(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; input_json: PByte; input_json_len: NativeUInt; confirm: Boolean; confirm_downgrade: Boolean; reason: PByte; reason_len: NativeUInt; actor_json: PByte; actor_json_len: NativeUInt; identity_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_add_document(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; code: PByte; code_len: NativeUInt; actor_json: PByte; actor_json_len: NativeUInt; identity_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_set_attribute(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; attribute: Cardinal; value: Boolean; reason: PByte; reason_len: NativeUInt; actor_json: PByte; actor_json_len: NativeUInt; identity_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_search_insi(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; actor_json: PByte; actor_json_len: NativeUInt; search_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_search_insi_async(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; actor_json: PByte; actor_json_len: NativeUInt; callback: TSegurCallback; user_data: Pointer): TSegurResult; cdecl; external SEGUR_LIB;
function segur_insi_search(client: PSegurClient; input_json: PByte; input_json_len: NativeUInt; confirm: Boolean; actor_json: PByte; actor_json_len: NativeUInt; result_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_insi_search_async(client: PSegurClient; input_json: PByte; input_json_len: NativeUInt; confirm: Boolean; actor_json: PByte; actor_json_len: NativeUInt; callback: TSegurCallback; user_data: Pointer): TSegurResult; cdecl; external SEGUR_LIB;
function segur_journal_query(client: PSegurClient; query_json: PByte; query_json_len: NativeUInt; rows_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_journal_export_csv(client: PSegurClient; query_json: PByte; query_json_len: NativeUInt; csv_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_status(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; status_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_status_async(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; callback: TSegurCallback; user_data: Pointer): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_confirm_traits(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; confirmation_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_authorize(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; consent_json: PByte; consent_json_len: NativeUInt; access_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_revoke(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; access_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_authorizations(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; authorizations_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_send(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; cda: PByte; cda_len: NativeUInt; options_json: PByte; options_json_len: NativeUInt; sent_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_send_async(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; cda: PByte; cda_len: NativeUInt; options_json: PByte; options_json_len: NativeUInt; callback: TSegurCallback; user_data: Pointer): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_retry(client: PSegurClient; unique_id: PByte; unique_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; sent_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_find(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; query_json: PByte; query_json_len: NativeUInt; entries_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_find_async(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; query_json: PByte; query_json_len: NativeUInt; callback: TSegurCallback; user_data: Pointer): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_latest_vsm(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; entry_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_get(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; unique_id: PByte; unique_id_len: NativeUInt; entry_out: PPSegurBuf; content_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_update(client: PSegurClient; local_id: PByte; local_id_len: NativeUInt; practitioner_json: PByte; practitioner_json_len: NativeUInt; unique_id: PByte; unique_id_len: NativeUInt; update: PByte; update_len: NativeUInt; result_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_dmp_dashboard(client: PSegurClient; query_json: PByte; query_json_len: NativeUInt; rows_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_identity_by_ins(client: PSegurClient; ins: PByte; ins_len: NativeUInt; local_id_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_matricule_check(matricule: PByte; matricule_len: NativeUInt; key: PByte; key_len: NativeUInt; info_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;
function segur_matricule_normalize15(matricule: PByte; matricule_len: NativeUInt; out15: PByte; key_status_out: PCardinal): TSegurResult; cdecl; external SEGUR_LIB;
function segur_normalize(field: Cardinal; input: PByte; input_len: NativeUInt; confirm: Boolean; normalized_out: PPSegurBuf): TSegurResult; cdecl; external SEGUR_LIB;

{ END GENERATED }

type
  { A failed call: Code is the segur_result number (SEGUR_RESULT_*). }
  ESegurError = class(Exception)
  private
    FCode: Cardinal;
    FProposal: string;
    FSubcode: string;
    FNotSentReason: string;
    FDetails: string;
  public
    constructor CreateCode(ACode: Cardinal; const AMessage: string; const ADetails: string);
    { Builds the exception from the thread's last error (call right after the failure). }
    class function FromLast(ACode: Cardinal): ESegurError;
    property Code: Cardinal read FCode;
    { For SEGUR_RESULT_NEEDS_CONFIRMATION: the spelling to confirm. }
    property Proposal: string read FProposal;
    { For a service fault or refusal: the SOAP subcode or the DMP / XDS registry code
      (e.g. DMP_ACCES_NON_AUTORISE); '' otherwise. }
    property Subcode: string read FSubcode;
    { For SEGUR_RESULT_NOT_SENT (106): why nothing was sent, 'no_dmp', 'closed',
      'feeding_opposed' (DMP/CONF.09) or 'traits_mismatch' (DMP/CONF.01: the differing trait
      codes are in Details, member reason.fields; confirm with DmpConfirmTraits); '' otherwise. }
    property NotSentReason: string read FNotSentReason;
    { The error details JSON (include/schema/error_details.json). }
    property Details: string read FDetails;
  end;

  TSegurAsyncCall = class;
  { Completion handler of a TSegurAsyncCall: runs once, on a library worker thread (a cancelled
    call's may run on the thread freeing the client), after the result is stored: Call.Code and
    Call.Value are ready (they do not wait), Call.Done is still False until the handler returns.
    Keep it short (it holds a worker thread of the client); hand work to the UI thread with
    TThread.Queue (not Synchronize: a thread blocked in WaitFor or Free would deadlock); never
    call a blocking TSegurClient method there (the library answers code 901,
    SEGUR_RESULT_WOULD_BLOCK_IN_CALLBACK) and never free Call there. An exception raised by the
    handler is swallowed (no exception may unwind into the library). }
  TSegurAsyncEvent = procedure(Call: TSegurAsyncCall) of object;

  { One pending call of a segur_*_async function, made by the TSegurClient *Async methods (not
    created directly); the caller owns it and frees it (Free waits for the completion, OnComplete included, so a call
    is never written to after it is freed). Freeing the client cancels the calls still pending:
    they complete during TSegurClient.Free, with code 7 (SEGUR_RESULT_CANCELLED), or 300 when
    the shutdown cut an exchange short. WaitFor, Done, Code and Value may be called from any
    thread. }
  TSegurAsyncCall = class
  private
    FStored: TEvent;    { set once Code, Value, message and details are stored }
    FFinished: TEvent;  { set once OnComplete has returned: the library is done with Self }
    FStarted: Boolean;  { the segur_*_async call returned OK: the callback will run }
    FOnComplete: TSegurAsyncEvent;
    FCode: Cardinal;
    FValue: string;
    FMessage: string;
    FDetails: string;
    procedure Complete(ACode: TSegurResult; Data: PSegurBuf);
    procedure Started(R: TSegurResult);
    function GetDone: Boolean;
    function GetCode: Cardinal;
  public
    constructor Create(AOnComplete: TSegurAsyncEvent = nil);
    destructor Destroy; override;
    { Waits until the call is complete and its OnComplete has returned: True when it is,
      False when TimeoutMs (milliseconds; 0 polls) passed first. }
    function WaitFor(TimeoutMs: Cardinal = INFINITE): Boolean;
    { The JSON result (as the blocking twin returns it), waiting for it; on failure raises a
      new ESegurError (same Code, message, Proposal, Subcode, Details) on every call. }
    function Value: string;
    { True once the call is complete and its OnComplete has returned (never waits). }
    property Done: Boolean read GetDone;
    { The result code (SEGUR_RESULT_OK on success), waiting for it like Value. }
    property Code: Cardinal read GetCode;
  end;

  { Stateless functions. }
  TSegur = class
  public
    class function Version: string;
    class function AbiVersion: Cardinal;
    { MatriculeInfo JSON of a typed matricule (13 or 15 characters, or 13 + Key). }
    class function CheckMatricule(const Matricule: string; const Key: string = ''): string;
    class function CheckMatriculeUtf8(const Matricule: UTF8String): string;
    { The 15-character matricule (fast path, no allocation in the library). }
    class function Normalize15(const Matricule: string): string;
    { Normalises a name (Field: SEGUR_FIELD_*); raises code 101 with Proposal without Confirm. }
    class function Normalize(Field: Cardinal; const Value: string; Confirm: Boolean): string;
    { Documents (CDA). A malformed document, a DOCTYPE or a broken CI-SIS rule raises code 105
      (SEGUR_RESULT_INVALID_DOCUMENT). }
    { ParsedDocument JSON (header, vsm_version, body, items with stable ids). }
    class function CdaParse(const Xml: TBytes): string;
    { VsmSummary JSON of the items chosen (SelectionJson: JSON array of item ids). }
    class function CdaIntegrate(const Xml: TBytes; const SelectionJson: string): string;
    { XdsMetadata JSON derived from the header. }
    class function CdaMetadata(const Xml: TBytes): string;
    { The PDF copy and its MSSanté file name. }
    class function CdaPdf(const Xml: TBytes; out FileName: string): TBytes;
  end;

  { A client (journal, INSi, DMP). Not for concurrent Free; methods are thread-safe. JSON in, JSON out. }
  TSegurClient = class
  private
    FHandle: PSegurClient;
  public
    constructor Create(const ConfigPath: string);
    destructor Destroy; override;
    function IdentityCreate(const LocalId, InputJson: string; Confirm: Boolean; const ActorJson: string): string;
    function IdentityCreateUtf8(const LocalId, InputJson: UTF8String; Confirm: Boolean; const ActorJson: UTF8String): string;
    function IdentityGet(const LocalId: string): string;
    function IdentityEditTraits(const LocalId, InputJson: string; Confirm, ConfirmDowngrade: Boolean;
      const Reason, ActorJson: string): string;
    function IdentityAddDocument(const LocalId, DocCode, ActorJson: string): string;
    function IdentitySetAttribute(const LocalId: string; Attribute: Cardinal; Value: Boolean;
      const Reason, ActorJson: string): string;
    function IdentitySearchInsi(const LocalId, ActorJson: string): string;
    function InsiSearch(const InputJson: string; Confirm: Boolean; const ActorJson: string): string;
    function JournalQuery(const QueryJson: string): string;
    function JournalExportCsv(const QueryJson: string): string;
    { Builds a VSM for a recorded patient (RequestJson: the format of cli/examples/vsm-request.json).
      Returns the BuiltDocument JSON (include/schema/built_document.json); Xml receives the CDA. }
    function CdaVsmBuild(const RequestJson: string; out Xml: TBytes): string;
    { The DMP (Mon espace santé). LocalId names a qualifiée identity (RNIV rule 28: code 102
      otherwise). PractitionerJson is a Practitioner JSON (include/schema/practitioner.json);
      '' means the [practitioner] of the configuration. The DMP's refusals raise code 202
      (SEGUR_RESULT_SERVICE_REFUSED) with the DMP code in Details ("subcode"), a check made
      before sending 106 (SEGUR_RESULT_NOT_SENT), an oversized document 107. Network calls block. }
    { TD0.2: DmpStatusView JSON (exists, authorization, can_feed, can_consult...). }
    function DmpStatus(const LocalId: string; const PractitionerJson: string = ''): string;
    (* TD0.3 AJOUT with the patient's consent (ConsentJson: '{"mode":"oral"}'...): DmpAccess JSON. *)
    function DmpAuthorize(const LocalId, ConsentJson: string; const PractitionerJson: string = ''): string;
    (* DMP/CONF.01: confirms the traits mismatch TD0.2 reports (recorded in the journal), so that
      DmpSend / DmpRetry send for this patient: DmpTraitsConfirmation JSON ('{"fields":
      ["prenoms"],...}'). Raises code 100 when there is no mismatch. *)
    function DmpConfirmTraits(const LocalId: string; const PractitionerJson: string = ''): string;
    { TD0.3 SUPPRESSION: DmpAccess JSON. }
    function DmpRevoke(const LocalId: string; const PractitionerJson: string = ''): string;
    { The professionals authorised on the patient's DMP: JSON array of DmpAuthorizationView. }
    function DmpAuthorizations(const LocalId: string; const PractitionerJson: string = ''): string;
    (* ITI-41: sends a CDA (kept in the journal's outbox first); DmpSendView JSON. OptionsJson:
      DmpSendOptions ('{}', '{"mask_ps":true}'...). *)
    function DmpSend(const LocalId: string; const Cda: TBytes; const OptionsJson: string = '{}';
      const PractitionerJson: string = ''): string;
    { Sends again a failed document of the outbox: DmpSendView JSON. }
    function DmpRetry(const UniqueId: string; const PractitionerJson: string = ''): string;
    (* ITI-18 (QueryJson: DmpFindQuery, '{}' for the current documents): JSON array of DmpEntryView. *)
    function DmpFind(const LocalId, QueryJson: string; const PractitionerJson: string = ''): string;
    { The most recent VSM: DmpEntryView JSON or 'null'. }
    function DmpLatestVsm(const LocalId: string; const PractitionerJson: string = ''): string;
    { ITI-43: the DmpEntryView JSON; Content receives the document's bytes. }
    function DmpGet(const LocalId, UniqueId: string; out Content: TBytes;
      const PractitionerJson: string = ''): string;
    { ITI-57 (Update: mask, unmask, hide_from_patient, show_to_patient, delete, archive):
      DmpUpdateResult JSON. }
    function DmpUpdate(const LocalId, UniqueId, Update: string; const PractitionerJson: string = ''): string;
    (* The DMP dashboard (QueryJson: DmpDocumentQuery, '{}' for all): JSON array of DmpDocumentRow. *)
    function DmpDashboard(const QueryJson: string): string;
    { The local id of the qualifiée identity with this INS (code 103 when none, 100 when several). }
    function IdentityByIns(const Ins: string): string;
    { Asynchronous twins (segur_*_async): same parameters as the blocking methods, plus an
      optional OnComplete (see TSegurAsyncEvent). Inputs are copied before they return; a
      refusal known at once (malformed JSON, invalid UTF-8...) raises ESegurError there and
      then; later failures are raised by the call's Value. The result is a TSegurAsyncCall the
      caller frees; free every call before or after the client (freeing the client cancels
      those still pending: code 7, SEGUR_RESULT_CANCELLED, see TSegurAsyncCall). }
    function IdentitySearchInsiAsync(const LocalId, ActorJson: string;
      OnComplete: TSegurAsyncEvent = nil): TSegurAsyncCall;
    function InsiSearchAsync(const InputJson: string; Confirm: Boolean; const ActorJson: string;
      OnComplete: TSegurAsyncEvent = nil): TSegurAsyncCall;
    function DmpStatusAsync(const LocalId: string; const PractitionerJson: string = '';
      OnComplete: TSegurAsyncEvent = nil): TSegurAsyncCall;
    function DmpSendAsync(const LocalId: string; const Cda: TBytes; const OptionsJson: string = '{}';
      const PractitionerJson: string = ''; OnComplete: TSegurAsyncEvent = nil): TSegurAsyncCall;
    function DmpFindAsync(const LocalId, QueryJson: string; const PractitionerJson: string = '';
      OnComplete: TSegurAsyncEvent = nil): TSegurAsyncCall;
    property Handle: PSegurClient read FHandle;
  end;

{ Raises ESegurError unless R = SEGUR_RESULT_OK. }
procedure SegurCheck(R: TSegurResult);
{ The text of a buffer (UTF-8 decoded); does not free it. }
function SegurBufText(B: PSegurBuf): string;
{ The text of a buffer, then frees it. }
function SegurTakeBuf(B: PSegurBuf): string;
{ The bytes of a buffer, then frees it. }
function SegurTakeBytes(B: PSegurBuf): TBytes;

implementation

{ UTF-8 bytes to string: UTF-16 under Delphi (UNICODE), UTF-8 AnsiString under FPC. }
function FromUtf8(const U: UTF8String): string;
begin
{$IFDEF UNICODE}
  Result := UTF8ToString(U);
{$ELSE}
  Result := string(U);
{$ENDIF}
end;

function Utf8Ptr(const U: UTF8String): PByte; inline;
begin
  { PAnsiChar of an empty string is a valid pointer to #0, never nil. }
  Result := PByte(PAnsiChar(U));
end;

function SegurBufText(B: PSegurBuf): string;
var
  U: UTF8String;
  N: NativeUInt;
begin
  N := segur_buf_len(B);
  SetLength(U, N);
  if N > 0 then
    Move(segur_buf_data(B)^, PAnsiChar(U)^, N);
  Result := FromUtf8(U);
end;

function SegurTakeBuf(B: PSegurBuf): string;
begin
  try
    Result := SegurBufText(B);
  finally
    segur_buf_free(B);
  end;
end;

function SegurTakeBytes(B: PSegurBuf): TBytes;
var
  N: NativeUInt;
begin
  Result := nil;
  try
    N := segur_buf_len(B);
    SetLength(Result, N);
    if N > 0 then
      Move(segur_buf_data(B)^, Result[0], N);
  finally
    segur_buf_free(B);
  end;
end;

var
  EmptyByte: Byte = 0;

{ Pointer to the bytes; never nil (an empty array gives a valid 0-byte pointer). }
function BytesPtr(const B: TBytes): PByte; inline;
begin
  if Length(B) = 0 then
    Result := @EmptyByte
  else
    Result := @B[0];
end;

function JsonStringField(const Json, Name: string): string;
var
  P, I: Integer;
  C: Char;
begin
  Result := '';
  P := Pos('"' + Name + '":"', Json);
  if P = 0 then
    Exit;
  I := P + Length(Name) + 4;
  while I <= Length(Json) do
  begin
    C := Json[I];
    if C = '"' then
      Exit;
    if (C = '\') and (I < Length(Json)) then
    begin
      Inc(I);
      C := Json[I];
    end;
    Result := Result + C;
    Inc(I);
  end;
end;

constructor ESegurError.CreateCode(ACode: Cardinal; const AMessage: string; const ADetails: string);
begin
  inherited Create(AMessage);
  FCode := ACode;
  FDetails := ADetails;
  FProposal := JsonStringField(ADetails, 'proposal');
  FSubcode := JsonStringField(ADetails, 'subcode');
  FNotSentReason := JsonStringField(ADetails, 'kind');
end;

class function ESegurError.FromLast(ACode: Cardinal): ESegurError;
var
  Need: NativeUInt;
  Msg: UTF8String;
  Dummy: AnsiChar;
  D: PSegurBuf;
  Details, Text: string;
begin
  Need := 0;
  Text := '';
  segur_last_error_message(@Dummy, 0, @Need);
  if Need > 1 then
  begin
    SetLength(Msg, Need);
    if segur_last_error_message(PAnsiChar(Msg), Need, @Need) = SEGUR_RESULT_OK then
    begin
      SetLength(Msg, Need - 1);
      Text := FromUtf8(Msg);
    end;
  end;
  if Text = '' then
    Text := string(AnsiString(segur_result_str(ACode)));
  Details := '';
  D := nil;
  if segur_last_error_details(@D) = SEGUR_RESULT_OK then
    Details := SegurTakeBuf(D);
  Result := ESegurError.CreateCode(ACode, Format('segur error %d: %s', [ACode, Text]), Details);
end;

procedure SegurCheck(R: TSegurResult);
begin
  if R <> SEGUR_RESULT_OK then
    raise ESegurError.FromLast(R);
end;

{ TSegur }

class function TSegur.Version: string;
begin
  Result := string(AnsiString(segur_version()));
end;

class function TSegur.AbiVersion: Cardinal;
begin
  Result := segur_abi_version();
end;

class function TSegur.CheckMatricule(const Matricule: string; const Key: string): string;
var
  M, K: UTF8String;
  B: PSegurBuf;
begin
  M := UTF8String(Matricule);
  K := UTF8String(Key);
  B := nil;
  if Key = '' then
    SegurCheck(segur_matricule_check(Utf8Ptr(M), Length(M), nil, 0, @B))
  else
    SegurCheck(segur_matricule_check(Utf8Ptr(M), Length(M), Utf8Ptr(K), Length(K), @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.CheckMatriculeUtf8(const Matricule: UTF8String): string;
var
  B: PSegurBuf;
begin
  B := nil;
  SegurCheck(segur_matricule_check(Utf8Ptr(Matricule), Length(Matricule), nil, 0, @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.Normalize15(const Matricule: string): string;
var
  M: UTF8String;
  Out15: array[0..14] of Byte;
  KeyStatus: Cardinal;
  I: Integer;
begin
  M := UTF8String(Matricule);
  SegurCheck(segur_matricule_normalize15(Utf8Ptr(M), Length(M), @Out15[0], @KeyStatus));
  Result := '';
  for I := 0 to 14 do
    Result := Result + Char(Out15[I]);
end;

class function TSegur.Normalize(Field: Cardinal; const Value: string; Confirm: Boolean): string;
var
  V: UTF8String;
  B: PSegurBuf;
begin
  V := UTF8String(Value);
  B := nil;
  SegurCheck(segur_normalize(Field, Utf8Ptr(V), Length(V), Confirm, @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.CdaParse(const Xml: TBytes): string;
var
  B: PSegurBuf;
begin
  B := nil;
  SegurCheck(segur_cda_parse(BytesPtr(Xml), Length(Xml), @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.CdaIntegrate(const Xml: TBytes; const SelectionJson: string): string;
var
  S: UTF8String;
  B: PSegurBuf;
begin
  S := UTF8String(SelectionJson);
  B := nil;
  SegurCheck(segur_cda_integrate(BytesPtr(Xml), Length(Xml), Utf8Ptr(S), Length(S), @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.CdaMetadata(const Xml: TBytes): string;
var
  B: PSegurBuf;
begin
  B := nil;
  SegurCheck(segur_cda_metadata(BytesPtr(Xml), Length(Xml), @B));
  Result := SegurTakeBuf(B);
end;

class function TSegur.CdaPdf(const Xml: TBytes; out FileName: string): TBytes;
var
  P, N: PSegurBuf;
begin
  P := nil;
  N := nil;
  SegurCheck(segur_cda_pdf(BytesPtr(Xml), Length(Xml), @P, @N));
  FileName := SegurTakeBuf(N);
  Result := SegurTakeBytes(P);
end;

{ TSegurClient }

constructor TSegurClient.Create(const ConfigPath: string);
var
  P: UTF8String;
begin
  inherited Create;
  if segur_abi_version() <> SEGUR_HEADER_ABI_VERSION then
    raise ESegurError.CreateCode(SEGUR_RESULT_INTERNAL, 'libsegur ABI version mismatch', '');
  P := UTF8String(ConfigPath);
  SegurCheck(segur_client_open(Utf8Ptr(P), Length(P), @FHandle));
end;

destructor TSegurClient.Destroy;
begin
  segur_client_free(FHandle);
  FHandle := nil;
  inherited Destroy;
end;

function TSegurClient.IdentityCreate(const LocalId, InputJson: string; Confirm: Boolean; const ActorJson: string): string;
begin
  Result := IdentityCreateUtf8(UTF8String(LocalId), UTF8String(InputJson), Confirm, UTF8String(ActorJson));
end;

function TSegurClient.IdentityCreateUtf8(const LocalId, InputJson: UTF8String; Confirm: Boolean; const ActorJson: UTF8String): string;
var
  B: PSegurBuf;
begin
  B := nil;
  SegurCheck(segur_identity_create(FHandle, Utf8Ptr(LocalId), Length(LocalId), Utf8Ptr(InputJson),
    Length(InputJson), Confirm, Utf8Ptr(ActorJson), Length(ActorJson), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentityGet(const LocalId: string): string;
var
  L: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  B := nil;
  SegurCheck(segur_identity_get(FHandle, Utf8Ptr(L), Length(L), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentityEditTraits(const LocalId, InputJson: string; Confirm, ConfirmDowngrade: Boolean;
  const Reason, ActorJson: string): string;
var
  L, I, R, A: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  I := UTF8String(InputJson);
  R := UTF8String(Reason);
  A := UTF8String(ActorJson);
  B := nil;
  SegurCheck(segur_identity_edit_traits(FHandle, Utf8Ptr(L), Length(L), Utf8Ptr(I), Length(I), Confirm,
    ConfirmDowngrade, Utf8Ptr(R), Length(R), Utf8Ptr(A), Length(A), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentityAddDocument(const LocalId, DocCode, ActorJson: string): string;
var
  L, C, A: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  C := UTF8String(DocCode);
  A := UTF8String(ActorJson);
  B := nil;
  SegurCheck(segur_identity_add_document(FHandle, Utf8Ptr(L), Length(L), Utf8Ptr(C), Length(C),
    Utf8Ptr(A), Length(A), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentitySetAttribute(const LocalId: string; Attribute: Cardinal; Value: Boolean;
  const Reason, ActorJson: string): string;
var
  L, R, A: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  R := UTF8String(Reason);
  A := UTF8String(ActorJson);
  B := nil;
  SegurCheck(segur_identity_set_attribute(FHandle, Utf8Ptr(L), Length(L), Attribute, Value,
    Utf8Ptr(R), Length(R), Utf8Ptr(A), Length(A), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentitySearchInsi(const LocalId, ActorJson: string): string;
var
  L, A: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  A := UTF8String(ActorJson);
  B := nil;
  SegurCheck(segur_identity_search_insi(FHandle, Utf8Ptr(L), Length(L), Utf8Ptr(A), Length(A), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.InsiSearch(const InputJson: string; Confirm: Boolean; const ActorJson: string): string;
var
  I, A: UTF8String;
  B: PSegurBuf;
begin
  I := UTF8String(InputJson);
  A := UTF8String(ActorJson);
  B := nil;
  SegurCheck(segur_insi_search(FHandle, Utf8Ptr(I), Length(I), Confirm, Utf8Ptr(A), Length(A), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.JournalQuery(const QueryJson: string): string;
var
  Q: UTF8String;
  B: PSegurBuf;
begin
  Q := UTF8String(QueryJson);
  B := nil;
  SegurCheck(segur_journal_query(FHandle, Utf8Ptr(Q), Length(Q), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.JournalExportCsv(const QueryJson: string): string;
var
  Q: UTF8String;
  B: PSegurBuf;
begin
  Q := UTF8String(QueryJson);
  B := nil;
  SegurCheck(segur_journal_export_csv(FHandle, Utf8Ptr(Q), Length(Q), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.CdaVsmBuild(const RequestJson: string; out Xml: TBytes): string;
var
  R: UTF8String;
  D, X: PSegurBuf;
begin
  R := UTF8String(RequestJson);
  D := nil;
  X := nil;
  SegurCheck(segur_cda_vsm_build(FHandle, Utf8Ptr(R), Length(R), @D, @X));
  Xml := SegurTakeBytes(X);
  Result := SegurTakeBuf(D);
end;

{ Pointer to a practitioner JSON, or nil (the configured practitioner) when empty. }
function PractitionerPtr(const U: UTF8String): PByte; inline;
begin
  if U = '' then
    Result := nil
  else
    Result := Utf8Ptr(U);
end;

function TSegurClient.DmpStatus(const LocalId: string; const PractitionerJson: string): string;
var
  L, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_status(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpConfirmTraits(const LocalId: string; const PractitionerJson: string): string;
var
  L, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_confirm_traits(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpAuthorize(const LocalId, ConsentJson: string; const PractitionerJson: string): string;
var
  L, C, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  C := UTF8String(ConsentJson);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_authorize(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    Utf8Ptr(C), Length(C), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpRevoke(const LocalId: string; const PractitionerJson: string): string;
var
  L, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_revoke(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpAuthorizations(const LocalId: string; const PractitionerJson: string): string;
var
  L, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_authorizations(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpSend(const LocalId: string; const Cda: TBytes; const OptionsJson: string;
  const PractitionerJson: string): string;
var
  L, O, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  O := UTF8String(OptionsJson);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_send(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    BytesPtr(Cda), Length(Cda), Utf8Ptr(O), Length(O), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpRetry(const UniqueId: string; const PractitionerJson: string): string;
var
  U, P: UTF8String;
  B: PSegurBuf;
begin
  U := UTF8String(UniqueId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_retry(FHandle, Utf8Ptr(U), Length(U), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpFind(const LocalId, QueryJson: string; const PractitionerJson: string): string;
var
  L, Q, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  Q := UTF8String(QueryJson);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_find(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    Utf8Ptr(Q), Length(Q), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpLatestVsm(const LocalId: string; const PractitionerJson: string): string;
var
  L, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_latest_vsm(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpGet(const LocalId, UniqueId: string; out Content: TBytes;
  const PractitionerJson: string): string;
var
  L, U, P: UTF8String;
  E, C: PSegurBuf;
begin
  L := UTF8String(LocalId);
  U := UTF8String(UniqueId);
  P := UTF8String(PractitionerJson);
  E := nil;
  C := nil;
  SegurCheck(segur_dmp_get(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    Utf8Ptr(U), Length(U), @E, @C));
  Content := SegurTakeBytes(C);
  Result := SegurTakeBuf(E);
end;

function TSegurClient.DmpUpdate(const LocalId, UniqueId, Update: string; const PractitionerJson: string): string;
var
  L, U, W, P: UTF8String;
  B: PSegurBuf;
begin
  L := UTF8String(LocalId);
  U := UTF8String(UniqueId);
  W := UTF8String(Update);
  P := UTF8String(PractitionerJson);
  B := nil;
  SegurCheck(segur_dmp_update(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    Utf8Ptr(U), Length(U), Utf8Ptr(W), Length(W), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.DmpDashboard(const QueryJson: string): string;
var
  Q: UTF8String;
  B: PSegurBuf;
begin
  Q := UTF8String(QueryJson);
  B := nil;
  SegurCheck(segur_dmp_dashboard(FHandle, Utf8Ptr(Q), Length(Q), @B));
  Result := SegurTakeBuf(B);
end;

function TSegurClient.IdentityByIns(const Ins: string): string;
var
  I: UTF8String;
  B: PSegurBuf;
begin
  I := UTF8String(Ins);
  B := nil;
  SegurCheck(segur_identity_by_ins(FHandle, Utf8Ptr(I), Length(I), @B));
  Result := SegurTakeBuf(B);
end;

{ TSegurAsyncCall }

{ The segur_callback of every TSegurAsyncCall (user_data: the call). }
procedure SegurAsyncCallback(user_data: Pointer; code: TSegurResult; data: PSegurBuf); cdecl;
begin
  TSegurAsyncCall(user_data).Complete(code, data);
end;

constructor TSegurAsyncCall.Create(AOnComplete: TSegurAsyncEvent);
begin
  inherited Create;
  FOnComplete := AOnComplete;
  FStored := TEvent.Create(nil, True, False, '');
  FFinished := TEvent.Create(nil, True, False, '');
end;

destructor TSegurAsyncCall.Destroy;
begin
  if FStarted then
    FFinished.WaitFor(INFINITE);
  FFinished.Free;
  FStored.Free;
  inherited Destroy;
end;

{ Runs on the worker thread: Data is borrowed, the last error is this thread's. }
procedure TSegurAsyncCall.Complete(ACode: TSegurResult; Data: PSegurBuf);
var
  Err: ESegurError;
begin
  try
    FCode := ACode;
    if ACode = SEGUR_RESULT_OK then
      FValue := SegurBufText(Data)
    else
    begin
      Err := ESegurError.FromLast(ACode);
      try
        FMessage := Err.Message;
        FDetails := Err.Details;
      finally
        Err.Free;
      end;
    end;
  except
    on E: Exception do
    begin
      FCode := SEGUR_RESULT_INTERNAL;
      FValue := '';
      FMessage := Format('segur error %d: %s', [SEGUR_RESULT_INTERNAL, E.Message]);
      FDetails := '';
    end;
  end;
  FStored.SetEvent;
  try
    if Assigned(FOnComplete) then
      FOnComplete(Self);
  except
    { Swallowed: no exception may unwind into the library. }
  end;
  { Last access to Self: a thread waiting in WaitFor or Destroy may free it from here on. }
  FFinished.SetEvent;
end;

{ After the segur_*_async call: on failure the callback never runs; raise at once. }
procedure TSegurAsyncCall.Started(R: TSegurResult);
var
  E: ESegurError;
begin
  if R = SEGUR_RESULT_OK then
  begin
    FStarted := True;
    Exit;
  end;
  E := ESegurError.FromLast(R);
  Free;
  raise E;
end;

function TSegurAsyncCall.WaitFor(TimeoutMs: Cardinal): Boolean;
begin
  Result := FFinished.WaitFor(TimeoutMs) = wrSignaled;
end;

function TSegurAsyncCall.GetDone: Boolean;
begin
  Result := FFinished.WaitFor(0) = wrSignaled;
end;

function TSegurAsyncCall.GetCode: Cardinal;
begin
  FStored.WaitFor(INFINITE);
  Result := FCode;
end;

function TSegurAsyncCall.Value: string;
begin
  FStored.WaitFor(INFINITE);
  if FCode <> SEGUR_RESULT_OK then
    raise ESegurError.CreateCode(FCode, FMessage, FDetails);
  Result := FValue;
end;

{ TSegurClient: asynchronous twins }

function TSegurClient.IdentitySearchInsiAsync(const LocalId, ActorJson: string;
  OnComplete: TSegurAsyncEvent): TSegurAsyncCall;
var
  L, A: UTF8String;
begin
  L := UTF8String(LocalId);
  A := UTF8String(ActorJson);
  Result := TSegurAsyncCall.Create(OnComplete);
  Result.Started(segur_identity_search_insi_async(FHandle, Utf8Ptr(L), Length(L), Utf8Ptr(A), Length(A),
    SegurAsyncCallback, Pointer(Result)));
end;

function TSegurClient.InsiSearchAsync(const InputJson: string; Confirm: Boolean; const ActorJson: string;
  OnComplete: TSegurAsyncEvent): TSegurAsyncCall;
var
  I, A: UTF8String;
begin
  I := UTF8String(InputJson);
  A := UTF8String(ActorJson);
  Result := TSegurAsyncCall.Create(OnComplete);
  Result.Started(segur_insi_search_async(FHandle, Utf8Ptr(I), Length(I), Confirm, Utf8Ptr(A), Length(A),
    SegurAsyncCallback, Pointer(Result)));
end;

function TSegurClient.DmpStatusAsync(const LocalId: string; const PractitionerJson: string;
  OnComplete: TSegurAsyncEvent): TSegurAsyncCall;
var
  L, P: UTF8String;
begin
  L := UTF8String(LocalId);
  P := UTF8String(PractitionerJson);
  Result := TSegurAsyncCall.Create(OnComplete);
  Result.Started(segur_dmp_status_async(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    SegurAsyncCallback, Pointer(Result)));
end;

function TSegurClient.DmpSendAsync(const LocalId: string; const Cda: TBytes; const OptionsJson: string;
  const PractitionerJson: string; OnComplete: TSegurAsyncEvent): TSegurAsyncCall;
var
  L, O, P: UTF8String;
begin
  L := UTF8String(LocalId);
  O := UTF8String(OptionsJson);
  P := UTF8String(PractitionerJson);
  Result := TSegurAsyncCall.Create(OnComplete);
  Result.Started(segur_dmp_send_async(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    BytesPtr(Cda), Length(Cda), Utf8Ptr(O), Length(O), SegurAsyncCallback, Pointer(Result)));
end;

function TSegurClient.DmpFindAsync(const LocalId, QueryJson: string; const PractitionerJson: string;
  OnComplete: TSegurAsyncEvent): TSegurAsyncCall;
var
  L, Q, P: UTF8String;
begin
  L := UTF8String(LocalId);
  Q := UTF8String(QueryJson);
  P := UTF8String(PractitionerJson);
  Result := TSegurAsyncCall.Create(OnComplete);
  Result.Started(segur_dmp_find_async(FHandle, Utf8Ptr(L), Length(L), PractitionerPtr(P), Length(P),
    Utf8Ptr(Q), Length(Q), SegurAsyncCallback, Pointer(Result)));
end;

initialization
  { The library calls back on threads it created: the memory manager and string reference
    counts must be thread-safe from the start. }
  IsMultiThread := True;
{$IFDEF FPC}
  {$IFNDEF UNICODE}
  SetMultiByteConversionCodePage(CP_UTF8);
  {$ENDIF}
{$ENDIF}

end.
