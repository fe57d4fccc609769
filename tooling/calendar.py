"""Write the Russian production calendar the SLA reads (``services/appeals/production_calendar.json``).

The runtime does not ship ``holidays`` (14 MB, every country imported at once, ~0.2 s): this takes, for each year
whose decree ``holidays`` knows, the public holidays of ТК РФ ст. 112, the weekdays off (moved by decree or observed)
and the working weekend days. Run ``python -m tooling.calendar`` after bumping ``holidays`` each autumn;
``tests/appeals/test_sla.py`` checks the file against the installed ``holidays``.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

CALENDAR_FILE = Path(__file__).resolve().parents[1] / "services" / "appeals" / "production_calendar.json"
FIRST_YEAR = 2020
MOVED_DAY_OFF = ("Day off (substituted", "(observed)")


def year_calendar(year: int) -> dict[str, list[str]]:
    """One year of the federal calendar, as ISO dates."""
    import holidays

    russia = holidays.country_holidays("RU", years=year)
    days = [
        date(year, 1, 1) + timedelta(days=n) for n in range(366) if (date(year, 1, 1) + timedelta(days=n)).year == year
    ]
    public = [day for day in days if (name := russia.get(day)) and not any(m in name for m in MOVED_DAY_OFF)]
    days_off = [day for day in days if day.weekday() < 5 and day not in public and not russia.is_working_day(day)]
    working_weekends = [day for day in days if day.weekday() >= 5 and russia.is_working_day(day)]
    return {
        "public_holidays": [day.isoformat() for day in public],
        "weekdays_off": [day.isoformat() for day in days_off],
        "working_weekends": [day.isoformat() for day in working_weekends],
    }


def calendar(last_year: int) -> dict[str, Any]:
    """Every year from ``FIRST_YEAR`` to ``last_year``, with the ``holidays`` version they came from."""
    return {
        "source": f"holidays {version('holidays')} (RU)",
        "years": {str(year): year_calendar(year) for year in range(FIRST_YEAR, last_year + 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--last-year", type=int, required=True, help="the last year whose decree is published")
    args = parser.parse_args()
    CALENDAR_FILE.write_text(json.dumps(calendar(args.last_year), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CALENDAR_FILE} ({FIRST_YEAR}-{args.last_year})")  # noqa: T201 - this command's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
