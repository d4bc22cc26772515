"""segur quickstart: check a matricule, search INSi in the sandbox, handle an error.

    segur sandbox --dir /tmp/sbx          # in another terminal: simulated INSi on loopback
    python quickstart.py /tmp/sbx/segur.toml
"""

import sys

import segur

m = segur.check_matricule("1810163220751")  # 13 characters: the key is computed
print("matricule:", m.matricule, m.key_status)  # 181016322075140 computed

client = segur.Client.open(sys.argv[1], actor=segur.Actor("accueil-1"))
found = client.insi_search(segur.IdentityInput("ADRDEUX", "LAURENT", "1981-01-01", "M"))
print("INSi CR", found.code, found.identity.ins.matricule if found.identity else "-")

try:
    segur.normalize("D’ÆION")  # typographic apostrophe and ligature: confirmation needed
except segur.NeedsConfirmation as e:
    print("to confirm:", e.proposal, "- error code", e.code)  # D'AEION - error code 101
