#!/usr/bin/env bash
# Check (run by scripts/test): Swift bindings generated from libsegur_uniffi.so with the
# workspace's uniffi-bindgen, into a temporary folder (no Swift compiler here: generation and
# declarations only). Checks the three files exist and declare the expected API.
# Last line: segur-check: N passed, M failed   (one per expectation)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/segur/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd)
LIB="$CARGO_TARGET_DIR/debug/libsegur_uniffi.so"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/segur-swift.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
ko() { failed=$((failed + 1)); echo "FAIL $*"; }

echo "+ cargo build -p segur-uniffi"
if ! cargo build -q -p segur-uniffi || [ ! -f "$LIB" ]; then
    ko "cargo build -p segur-uniffi"
    echo "segur-check: $passed passed, $failed failed"
    exit 1
fi
echo "+ uniffi-bindgen generate --library $LIB --language swift --out-dir $OUT"
# From the crate's folder, so that its uniffi.toml (module Segur, FFI module SegurFFI) applies.
if (cd bindings/uniffi && cargo run -q -p uniffi-bindgen -- generate --no-format \
    --library "$LIB" --language swift --out-dir "$OUT"); then
    ok "uniffi-bindgen generate --language swift"
else
    ko "uniffi-bindgen generate --language swift"
fi

SWIFT="$OUT/Segur.swift" HEADER="$OUT/SegurFFI.h" MODULEMAP="$OUT/SegurFFI.modulemap"
for f in "$SWIFT" "$HEADER" "$MODULEMAP"; do
    if [ -s "$f" ]; then ok "file $(basename "$f")"; else ko "file $(basename "$f") missing or empty"; fi
done

# The Swift source without doc comments, whitespace runs collapsed (generated docstrings sit
# between parameters), so that declarations read on one line.
FLAT="$OUT/Segur.flat"
if [ -f "$SWIFT" ]; then
    perl -0pe 's{/\*\*.*?\*/}{}gs; s/\s+/ /g' "$SWIFT" >"$FLAT"
fi

# expect FILE DESCRIPTION EXTENDED-REGEX
expect() {
    if [ -f "$1" ] && grep -Eq -- "$3" "$1"; then ok "$2"; else ko "$2  (/$3/ not in $(basename "$1"))"; fi
}
expect "$FLAT" "class SegurClient" '(open|public) class SegurClient\b'
expect "$FLAT" "SegurClient.open constructor" 'static func `?open`?\(configPath: String\) ?throws -> SegurClient'
expect "$FLAT" "identitySearchInsi async throws" 'func identitySearchInsi\(localId: String, actor: Actor\) ?async throws -> IdentitySearchResult'
expect "$FLAT" "insiSearch async throws" 'func insiSearch\(input: IdentityInput, confirm: Bool, actor: Actor\) ?async throws -> InsiResult'
expect "$FLAT" "identityCreate throws (sync)" 'func identityCreate\(localId: String, input: IdentityInput, confirm: Bool, actor: Actor\) ?throws -> Identity'
expect "$FLAT" "enum SegurError: Error" 'public enum SegurError: Swift\.Error'
expect "$FLAT" "SegurError.NeedsConfirmation(code, reason, proposal)" 'case NeedsConfirmation\( ?code: UInt32, ?reason: String, ?proposal: String ?\)'
expect "$FLAT" "SegurError.NotFound(code, reason)" 'case NotFound\( ?code: UInt32, ?reason: String ?\)'
expect "$FLAT" "SegurError.ServiceFault(subcode, serviceCode, retryable)" 'case ServiceFault\( ?code: UInt32, ?subcode: String, ?serviceCode: String, ?reason: String, ?retryable: Bool ?\)'
expect "$FLAT" "enum IdentityStatus { provisoire ... qualifiee }" 'public enum IdentityStatus\b[^}]*case provisoire[^}]*case qualifiee'
expect "$FLAT" "struct Identity" 'public struct Identity\b'
expect "$FLAT" "func checkMatricule" 'public func checkMatricule\(matricule: String, key: String\?\) ?throws -> MatriculeInfo'
expect "$FLAT" "func normalize" 'public func normalize\(field: NameField, input: String, confirm: Bool\) ?throws -> String'
expect "$FLAT" "imports SegurFFI" 'import SegurFFI'
# What bindings/swift/Example.swift (quoted in docs/readme-swift.md) relies on.
expect "$FLAT" "init Actor(user:) with optional rpps/finess" 'public init\( ?user: String, ?rpps: String\? = nil, ?finess: String\? = nil ?\)'
expect "$FLAT" "init IdentityInput(nomNaissance:prenoms:dateNaissance:sexe:) then defaults" 'public init\( ?nomNaissance: String, ?prenoms: String, ?dateNaissance: String, ?sexe: String, ?premierPrenom: String\? = nil'
expect "$FLAT" "func identityGet(localId:) throws" 'func identityGet\(localId: String\) ?throws -> Identity'
expect "$FLAT" "InsiIdentity.ins: Ins" 'public struct InsiIdentity\b[^}]*public let ins: Ins\b'
expect "$FLAT" "Ins.matricule: MatriculeInfo" 'public struct Ins\b[^}]*public let matricule: MatriculeInfo\b'
expect "$FLAT" "MatriculeInfo.matricule: String" 'public struct MatriculeInfo\b[^}]*public let matricule: String\b'
# Documents (CDA R2).
expect "$FLAT" "cdaVsmBuild throws (sync method)" 'func cdaVsmBuild\(requestJson: String\) ?throws -> BuiltDocument'
expect "$FLAT" "func cdaParse(xml: Data)" 'public func cdaParse\(xml: Data\) ?throws -> ParsedCda'
expect "$FLAT" "func cdaIntegrate(xml:selection:)" 'public func cdaIntegrate\(xml: Data, selection: \[String\]\) ?throws -> String'
expect "$FLAT" "func cdaMetadataJson(xml:)" 'public func cdaMetadataJson\(xml: Data\) ?throws -> String'
expect "$FLAT" "func cdaPdf(xml:)" 'public func cdaPdf\(xml: Data\) ?throws -> PdfCopy'
expect "$FLAT" "SegurError.InvalidDocument(code, reason)" 'case InvalidDocument\( ?code: UInt32, ?reason: String ?\)'
expect "$FLAT" "BuiltDocument.withIns: Bool" 'public struct BuiltDocument\b[^}]*public let withIns: Bool\b'
expect "$FLAT" "ParsedCda.items: [CdaItem]" 'public struct ParsedCda\b[^}]*public let items: \[CdaItem\]'
expect "$FLAT" "ParsedCda.patientIns: ReceivedIns?" 'public struct ParsedCda\b[^}]*public let patientIns: ReceivedIns\?'
expect "$FLAT" "CdaItem.code: CdaCode?" 'public struct CdaItem\b[^}]*public let code: CdaCode\?'
expect "$FLAT" "enum CdaItemKind { pathologie ... autre }" 'public enum CdaItemKind\b[^}]*case pathologie[^}]*case autre'
expect "$FLAT" "PdfCopy.pdf: Data" 'public struct PdfCopy\b[^}]*public let pdf: Data\b'
expect "$HEADER" "header declares cda_parse" 'uniffi_segur_uniffi_fn_func_cda_parse'
# The DMP (async methods; the practitioner defaults to the configuration's).
expect "$FLAT" "dmpStatus async throws" 'func dmpStatus\(localId: String, practitioner: Practitioner\? = nil\) ?async throws -> DmpStatus\b'
expect "$FLAT" "dmpAuthorize(localId:consent:practitioner:) async throws" 'func dmpAuthorize\(localId: String, consent: DmpConsent, practitioner: Practitioner\? = nil\) ?async throws -> DmpAccess\?'
expect "$FLAT" "dmpRevoke async throws" 'func dmpRevoke\(localId: String, practitioner: Practitioner\? = nil\) ?async throws -> DmpAccess\?'
expect "$FLAT" "dmpAuthorizations async throws" 'func dmpAuthorizations\(localId: String, practitioner: Practitioner\? = nil\) ?async throws -> \[DmpAuthorization\]'
expect "$FLAT" "dmpSend(localId:cda:options:practitioner:) async throws" 'func dmpSend\(localId: String, cda: Data, options: DmpSendOptions\? = nil, practitioner: Practitioner\? = nil\) ?async throws -> DmpSendResult'
expect "$FLAT" "dmpRetry async throws" 'func dmpRetry\(uniqueId: String, practitioner: Practitioner\? = nil\) ?async throws -> DmpSendResult'
expect "$FLAT" "dmpFind(localId:query:practitioner:) async throws" 'func dmpFind\(localId: String, query: DmpFindQuery\? = nil, practitioner: Practitioner\? = nil\) ?async throws -> \[DmpEntry\]'
expect "$FLAT" "dmpLatestVsm async throws" 'func dmpLatestVsm\(localId: String, practitioner: Practitioner\? = nil\) ?async throws -> DmpEntry\?'
expect "$FLAT" "dmpGet async throws" 'func dmpGet\(localId: String, uniqueId: String, practitioner: Practitioner\? = nil\) ?async throws -> DmpRetrieved'
expect "$FLAT" "dmpUpdate async throws" 'func dmpUpdate\(localId: String, uniqueId: String, update: DmpUpdate, practitioner: Practitioner\? = nil\) ?async throws -> \[String\]'
expect "$FLAT" "dmpDashboard throws (sync)" 'func dmpDashboard\(query: DmpDocumentQuery\) ?throws -> \[DmpDocumentRow\]'
expect "$FLAT" "identityByIns throws" 'func identityByIns\(ins: String\) ?throws -> String'
expect "$FLAT" "defaultPractitioner" 'func defaultPractitioner\(\) ?-> Practitioner\?'
expect "$FLAT" "init Practitioner(idNat:nom:prenom:profession:) then defaults" 'public init\( ?idNat: String, ?nom: String, ?prenom: String, ?profession: String, ?specialty: String\? = nil'
expect "$FLAT" "init DmpConsent(mode:collectedAt: = nil)" 'public init\( ?mode: DmpConsentMode, ?collectedAt: Date\? = nil ?\)'
expect "$FLAT" "DmpRetrieved.content: Data" 'public struct DmpRetrieved\b[^}]*public let content: Data\b'
expect "$FLAT" "DmpEntry.creationTime: Date?" 'public struct DmpEntry\b[^}]*public let creationTime: Date\?'
expect "$FLAT" "DmpStatus.authorization: DmpAccess?" 'public struct DmpStatus\b[^}]*public let authorization: DmpAccess\?'
expect "$FLAT" "enum DmpAccess { autorise ... expire }" 'public enum DmpAccess\b[^}]*case autorise[^}]*case expire'
expect "$FLAT" "enum DmpUpdate { mask ... archive }" 'public enum DmpUpdate\b[^}]*case mask[^}]*case archive'
expect "$FLAT" "enum DmpDocumentStatus { pending ... archived }" 'public enum DmpDocumentStatus\b[^}]*case pending[^}]*case archived'
expect "$FLAT" "SegurError.NotSent(code, reason, blocked, fields)" 'case NotSent\( ?code: UInt32, ?reason: String, ?blocked: DmpFeedBlocked, ?fields: \[String\] ?\)'
expect "$FLAT" "enum DmpFeedBlocked { noDmp ... traitsMismatch }" 'public enum DmpFeedBlocked\b[^}]*case noDmp[^}]*case traitsMismatch'
expect "$FLAT" "dmpConfirmTraits async throws" 'func dmpConfirmTraits\([^)]*\) ?async ?throws'
expect "$FLAT" "SegurError.TooLarge(code, reason)" 'case TooLarge\( ?code: UInt32, ?reason: String ?\)'
expect "$FLAT" "SegurError.ServiceRefused(subcode, serviceCode, retryable)" 'case ServiceRefused\( ?code: UInt32, ?subcode: String, ?serviceCode: String, ?reason: String, ?retryable: Bool ?\)'
expect "$HEADER" "header declares dmp_send" 'uniffi_segur_uniffi_fn_method_segurclient_dmp_send'
if [ -f docs/readme-swift.md ] && [ -f bindings/swift/Example.swift ] &&
    perl -0ne 'print $1 if /```swift\n(.*?)```/s' docs/readme-swift.md | cmp -s - bindings/swift/Example.swift; then
    ok "docs/readme-swift.md quotes bindings/swift/Example.swift verbatim"
else
    ko "docs/readme-swift.md does not quote bindings/swift/Example.swift verbatim"
fi
expect "$HEADER" "header declares the FFI functions" 'uniffi_segur_uniffi_fn_method_segurclient_identity_search_insi'
expect "$HEADER" "header declares the async poll" 'ffi_segur_uniffi_rust_future_poll_'
expect "$MODULEMAP" "modulemap: module SegurFFI" 'module SegurFFI'
expect "$MODULEMAP" "modulemap: header SegurFFI.h" 'header "SegurFFI.h"'

echo "segur-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
