"""policy."""

from policy.case import Case, parse_case
from policy.codes import BASES, REASON_CODES, SENSITIVE_CODES
from policy.engine import Decision, decide, evaluate
from policy.errors import BcbpError, CaseError, NoPackInForce, PackError, PolicyError
from policy.messages import traveller_message
from policy.pack import PolicyPack, parse_pack, select_pack

__all__ = [
    "BASES",
    "REASON_CODES",
    "SENSITIVE_CODES",
    "BcbpError",
    "Case",
    "CaseError",
    "Decision",
    "NoPackInForce",
    "PackError",
    "PolicyError",
    "PolicyPack",
    "decide",
    "evaluate",
    "parse_case",
    "parse_pack",
    "select_pack",
    "traveller_message",
]
