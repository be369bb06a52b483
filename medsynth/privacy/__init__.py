"""Differential privacy: DP-SGD wiring (opacus), zCDP mechanisms, and the privacy ledger.

Import the submodules directly (``medsynth.privacy.dpsgd`` pulls in torch and opacus, the others
only numpy/scipy).
"""

from __future__ import annotations

from medsynth.privacy.ledger import LEDGER_FILE, LedgerEntry, PrivacyLedger

__all__ = ["LEDGER_FILE", "LedgerEntry", "PrivacyLedger"]
