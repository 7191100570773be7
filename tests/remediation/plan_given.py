"""Given planned keys: rows of the keys mart for a run, as load_run would have built them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from keyaudit.warehouse.db import insert_frame
from tests.lifecycle.lifecycle_given import A

KEY, OTHER = "AKIAOLDKEY0000000001", "AKIAOTHERKEY00000002"


def given_keys(con: Any, run_id: str, *keys: tuple[str, str, bool], root: bool = False) -> None:
    insert_frame(
        con,
        "keys",
        pd.DataFrame(
            [
                {
                    "run_id": run_id,
                    "account_id": A,
                    "user_name": user,
                    "access_key_id": key_id,
                    "is_root": root,
                    "is_active": active,
                    "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                    "last_used_at": datetime(2026, 11, 30, tzinfo=UTC),
                }
                for user, key_id, active in keys
            ]
        ),
    )
