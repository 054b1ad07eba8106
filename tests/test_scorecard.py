"""The scorecard: status rule, file checks, and figures on a tiny hand-made extract."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pytest

from metrics.org import org_tree
from metrics.scorecard import (
    DEFAULT_SCORECARD,
    SCORECARD_ENV,
    Scorecard,
    ScorecardError,
    cascade,
    evaluate_scorecard,
    improved,
    kpi_detail,
    load_scorecard,
    owner_of,
    parse_scorecard,
    previous_month_end,
    scorecard_details,
    status,
    status_counts,
)
from tests.conftest import make_extract

AS_OF = date(2024, 6, 14)

# --- the status rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (120.0, "green"),
        (90.0, "green"),  # on the target
        (89.999, "yellow"),  # just below
        (85.0, "yellow"),  # exactly target − tolerance
        (84.999, "red"),  # just past the tolerance
        (0.0, "red"),
        (None, "none"),
        (math.nan, "none"),
    ],
)
def test_status_higher_is_better(value: float | None, expected: str) -> None:
    assert status(value, 90, "higher", 5) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "green"),
        (5.5, "green"),  # on the target
        (5.501, "yellow"),
        (6.5, "yellow"),  # exactly target + tolerance
        (6.501, "red"),
        (40.0, "red"),
        (None, "none"),
    ],
)
def test_status_lower_is_better(value: float | None, expected: str) -> None:
    assert status(value, 5.5, "lower", 1) == expected


def test_status_zero_tolerance_has_no_yellow() -> None:
    assert status(100, 100, "higher", 0) == "green"
    assert status(99.99, 100, "higher", 0) == "red"
    assert status(3.0, 3, "lower", 0) == "green"
    assert status(3.01, 3, "lower", 0) == "red"


def test_improved_follows_the_direction() -> None:
    assert improved(2.0, "higher") is True
    assert improved(-2.0, "higher") is False
    assert improved(-2.0, "lower") is True
    assert improved(2.0, "lower") is False
    assert improved(0.0, "lower") is None
    assert improved(None, "higher") is None


def test_previous_month_end() -> None:
    assert previous_month_end(date(2024, 6, 14)) == date(2024, 5, 31)
    assert previous_month_end(date(2024, 3, 1)) == date(2024, 2, 29)
    assert previous_month_end(date(2025, 1, 31)) == date(2024, 12, 31)


# --- the file --------------------------------------------------------------------------


def test_default_scorecard_is_the_one_of_the_issue() -> None:
    card = load_scorecard(DEFAULT_SCORECARD)
    got = {p.name: [(k.id, k.direction, k.target, k.tolerance) for k in p.kpis] for p in card.perspectives}
    assert got == {
        "Borgere": [
            ("underretninger_24t_pct", "higher", 100, 5),
            ("brugertilfredshed", "higher", 4.5, 0.3),
            ("frister_overholdt_pct", "higher", 90, 5),
        ],
        "Økonomi": [
            ("oekonomi_forventet_pct", "lower", 100, 2),
            ("udgift_pr_sag_aendring_pct", "lower", 3, 2),
        ],
        "Interne processer": [
            ("undersoegelser_rettidige_pct", "higher", 90, 5),
            ("opfoelgninger_rettidige_pct", "higher", 90, 5),
            ("sager_pr_raadgiver", "lower", 25, 3),
            ("fejlefterspoergsel_pct", "lower", 20, 5),  # issue 13; shown only with contacts
        ],
        "Medarbejdere": [
            ("sygefravaer_pct", "lower", 5.5, 1),
            ("personaleomsaetning_pct", "lower", 15, 5),
            ("medarbejdertilfredshed", "higher", 4.5, 0.3),
        ],
    }
    for k in card.kpis:
        assert k.success_factor and k.method and k.source and k.owner, k.id
        assert all(a.text and a.success_criterion for a in k.actions)
    assert sum(len(k.actions) for k in card.kpis) >= 3


def test_scorecard_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "andet.toml"
    other.write_text(
        '[[perspectives]]\nid = "p"\nname = "P"\n[[perspectives.kpis]]\nid = "aktive_sager"\n'
        'target = 10\ndirection = "lower"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(SCORECARD_ENV, str(other))
    card = load_scorecard(None)
    assert [k.id for k in card.kpis] == ["aktive_sager"]
    assert card.kpis[0].name == "Aktive sager"  # the registry's label when name is left out
    assert card.kpis[0].tolerance == 0.0


GOOD_KPI = 'id = "k1"\nmetric = "aktive_sager"\ntarget = 10\ndirection = "lower"\ntolerance = 2\n'


def _card(kpi_body: str = GOOD_KPI, extra: str = "") -> str:
    return f'title = "T"\n[[perspectives]]\nid = "p1"\nname = "P"\n[[perspectives.kpis]]\n{kpi_body}{extra}'


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (_card(GOOD_KPI.replace("target = 10\n", "")), ['kpis["k1"].target', "mangler"]),
        (_card(GOOD_KPI.replace("target = 10", 'target = "ti"')), ['kpis["k1"].target', "tal"]),
        (_card(GOOD_KPI.replace("target = 10", "target = true")), ['kpis["k1"].target', "tal"]),
        (_card(GOOD_KPI.replace('"lower"', '"down"')), ['kpis["k1"].direction', "higher", "'down'"]),
        (_card(GOOD_KPI.replace("tolerance = 2", "tolerance = -1")), ['kpis["k1"].tolerance', "negativ"]),
        (_card(GOOD_KPI.replace("tolerance = 2", 'tolerance = "2"')), ['kpis["k1"].tolerance', "tal"]),
        (
            _card(GOOD_KPI, "[[perspectives.kpis]]\n" + GOOD_KPI),
            ['kpis["k1"].id', "'k1'", "to gange"],
        ),
        (
            _card(
                GOOD_KPI,
                '[[perspectives]]\nid = "p1"\nname = "Q"\n[[perspectives.kpis]]\n'
                + GOOD_KPI.replace("k1", "k2"),
            ),
            ['perspectives["p1"].id', "to gange"],
        ),
        (_card(GOOD_KPI + "tolerence = 1\n"), ['kpis["k1"].tolerence', "ukendt nøgle"]),
        (_card(GOOD_KPI + 'owner = "chef"\n'), ['kpis["k1"].owner', "team"]),
        (_card(GOOD_KPI.replace('id = "k1"', 'id = "K 1"')), ['kpis["K 1"].id', "gyldigt id"]),
        (_card(GOOD_KPI.replace('metric = "aktive_sager"', "metric = 3")), ['kpis["k1"].metric', "tekst"]),
        (
            _card(
                GOOD_KPI.replace('metric = "aktive_sager"', 'metric = "trivsel"').replace(
                    'direction = "lower"\n', ""
                )
            ),
            ['kpis["k1"].direction', "mangler"],
        ),
        (
            _card(GOOD_KPI, '[[perspectives.kpis.actions]]\ntext = "Gør noget"\n'),
            ['kpis["k1"].actions[1].success_criterion', "mangler"],
        ),
        (
            _card(
                GOOD_KPI,
                '[[perspectives.kpis.actions]]\ntext = "x"\nsuccess_criterion = "y"\ndue = "snart"\n',
            ),
            ['kpis["k1"].actions[1].due', "dato"],
        ),
        (
            _card(GOOD_KPI, '[[perspectives]]\nid = "p2"\nname = "Tom"\n'),
            ['perspectives["p2"].kpis', "ingen"],
        ),
        ('title = "T"\n', ["perspectives", "mangler"]),
        ('title = "T"\nperspectives = 4\n', ["perspectives", "[[perspectives]]"]),
        ("title = \n", ["ugyldig TOML", "line 1"]),
    ],
)
def test_broken_file_names_the_key(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "scorecard.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScorecardError) as err:
        load_scorecard(path)
    message = str(err.value)
    assert message.startswith(str(path) + ": ")
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScorecardError, match="findes ikke"):
        load_scorecard(tmp_path / "nej.toml")


def test_good_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        _card(
            GOOD_KPI + 'owner = "team"\n',
            '[[perspectives.kpis.actions]]\nid = "a1"\ntext = "x"\nsuccess_criterion = "y"\ndue = 2024-12-31\n',
        ),
        encoding="utf-8",
    )
    card = load_scorecard(path)
    (k,) = card.kpis
    assert (k.id, k.perspective, k.metric, k.target, k.direction, k.tolerance, k.owner) == (
        "k1", "p1", "aktive_sager", 10.0, "lower", 2.0, "team",
    )  # fmt: skip
    assert k.actions[0].due == date(2024, 12, 31)
    assert k.yellow_limit == 12.0  # lower: 10 + 2


# --- figures on a hand-made extract ----------------------------------------------------


def _ts(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour)


@pytest.fixture(scope="module")
def ex():  # type: ignore[no-untyped-def]
    """Root K with teams A and B (conftest default), as of 14 June 2024."""
    case_ids = ["c1", "c2", "c3", "c4"]
    cases = {
        "case_id": case_ids,
        "child_id": ["x1", "x2", "x3", "x4"],
        "unit_id": ["A", "A", "A", "B"],
        "caseworker_id": ["e1", "e1", "e1", "e2"],
        "birth_year": [2012, 2013, 2014, 2015],
        "opened_on": [date(2023, 1, 1)] * 4,
        "closed_on": [None] * 4,
    }
    employees = {
        "employee_id": ["e1", "e2"],
        "name": ["Rådgiver A", "Rådgiver B"],
        "email": [None, None],
        "unit_id": ["A", "B"],
        "role": ["raadgiver", "raadgiver"],
        "fte": [1.0, 0.5],
        "employed_from": [date(2020, 1, 1)] * 2,
        "employed_to": [None, None],
    }
    deadlines = {
        "deadline_id": ["d1", "d2", "d3", "d4", "d5", "bad"],
        "case_id": ["c1", "c2", "c3", "c1", "c4", "c2"],
        "kind": ["undersoegelse"] * 6,
        "started_on": [date(2024, 1, 2)] * 5 + [date(2024, 3, 1)],
        "due_on": [
            date(2024, 2, 10),
            date(2024, 3, 15),
            date(2024, 4, 20),
            date(2024, 6, 5),
            date(2024, 1, 20),
            date(2024, 2, 1),  # before started_on: set aside by validation
        ],
        "done_on": [
            date(2024, 2, 1),  # met
            date(2024, 3, 10),  # met
            date(2024, 5, 1),  # late
            date(2024, 6, 1),  # met
            date(2024, 1, 19),  # met (team B)
            None,
        ],
    }
    notifications = {
        "notification_id": ["n1", "n2"],
        "child_id": ["x1", "x2"],
        "case_id": [None, None],
        "unit_id": ["A", "A"],
        "source": ["skole", "politi"],
        "received_at": [_ts("2024-03-01", 8), _ts("2024-03-02", 8)],
        "assessed_at": [_ts("2024-03-01", 20), _ts("2024-03-04", 9)],  # 12 h: on time; 49 h: late
    }
    measurements = {
        "kpi_id": ["brugertilfredshed", "brugertilfredshed", "brugertilfredshed"],
        "unit_id": ["A", "B", "B"],
        "period_end": [date(2024, 5, 31), date(2024, 5, 31), date(2023, 11, 30)],
        "value": [4.0, 5.0, 1.0],
        "respondents": [10, 30, 50],  # B's older measurement is superseded
    }
    return make_extract(
        AS_OF,
        cases=cases,
        employees=employees,
        deadlines=deadlines,
        notifications=notifications,
        measurements=measurements,
    )


@pytest.fixture(scope="module")
def card() -> Scorecard:
    def kpi(i: str, target: float, direction: str, tol: float, metric: str | None = None) -> dict:
        return {"id": i, "metric": metric or i, "target": target, "direction": direction, "tolerance": tol}

    return parse_scorecard(
        {
            "perspectives": [
                {
                    "id": "borgere",
                    "name": "Borgere",
                    "kpis": [
                        kpi("frister", 90, "higher", 5, "frister_overholdt_pct"),
                        kpi("underretninger_24t_pct", 100, "higher", 5),
                        kpi("brugertilfredshed", 4.5, "higher", 0.3),
                    ],
                },
                {
                    "id": "processer",
                    "name": "Processer",
                    "kpis": [kpi("sager_pr_raadgiver", 2.5, "lower", 0.5) | {"owner": "team"}],
                },
            ]
        }
    )


def _values(rows) -> dict[str, tuple[float | None, str]]:  # type: ignore[no-untyped-def]
    return {r.kpi: (None if r.value is None else round(r.value, 6), r.status) for r in rows}


def test_extract_set_aside_the_bad_deadline(ex) -> None:  # type: ignore[no-untyped-def]
    assert ex.report["deadlines"].rejected == 1


def test_evaluate_for_each_unit(ex, card: Scorecard) -> None:  # type: ignore[no-untyped-def]
    # Team A: deadlines d1..d4 due in YTD, met d1, d2, d4 → 3/4 = 75 % (< 85: red).
    #   notifications: n1 12 h (on time), n2 49 h (late) → 1/2 = 50 % (red).
    #   brugertilfredshed: own latest 4.0 (< 4.2: red).
    #   sager_pr_raadgiver: 3 cases / 1.0 fte = 3.0 = 2.5 + 0.5 → yellow (on the edge).
    assert _values(evaluate_scorecard(ex, card, "A", AS_OF)) == {
        "frister": (75.0, "red"),
        "underretninger_24t_pct": (50.0, "red"),
        "brugertilfredshed": (4.0, "red"),
        "sager_pr_raadgiver": (3.0, "yellow"),
    }
    # Team B: d5 met → 100 %; no notifications → null/none; own latest 5.0; 1 case / 0.5 fte = 2.
    assert _values(evaluate_scorecard(ex, card, "B", AS_OF)) == {
        "frister": (100.0, "green"),
        "underretninger_24t_pct": (None, "none"),
        "brugertilfredshed": (5.0, "green"),
        "sager_pr_raadgiver": (2.0, "green"),
    }
    # Root K, recomputed (never the mean of the teams): deadlines 4/5 = 80 % (red, not 87.5);
    #   notifications 1/2 = 50 %; satisfaction (4.0·10 + 5.0·30) / 40 = 4.75 (green);
    #   cases 4 / 1.5 fte = 2.6667 (yellow).
    rows = evaluate_scorecard(ex, card, "K", AS_OF)
    assert _values(rows) == {
        "frister": (80.0, "red"),
        "underretninger_24t_pct": (50.0, "red"),
        "brugertilfredshed": (4.75, "green"),
        "sager_pr_raadgiver": (round(4 / 1.5, 6), "yellow"),
    }
    assert rows[0].as_json() == {
        "kpi": "frister",
        "perspective": "borgere",
        "unit": "K",
        "as_of": "2024-06-14",
        "value": 80.0,
        "target": 90.0,
        "status": "red",
    }
    assert status_counts(rows) == {"green": 1, "yellow": 1, "red": 2, "none": 0}


def test_detail_trend_change_basis_and_set_aside(ex, card: Scorecard) -> None:  # type: ignore[no-untyped-def]
    d = kpi_detail(ex, card.kpis[0], "A", AS_OF)
    # Month ends of 2024 up to May, then 14 June. Team A's eligible deadlines by due date:
    #   31 Jan: none → null; 29 Feb: d1 met → 100; 31 Mar: d1, d2 → 100;
    #   30 Apr: d3 due 20 Apr, done 1 May → not met → 2/3; 31 May: 2/3; 14 Jun: d4 met → 3/4.
    assert [(p.as_of, None if p.value is None else round(p.value, 4)) for p in d.trend] == [
        (date(2024, 1, 31), None),
        (date(2024, 2, 29), 100.0),
        (date(2024, 3, 31), 100.0),
        (date(2024, 4, 30), 66.6667),
        (date(2024, 5, 31), 66.6667),
        (date(2024, 6, 14), 75.0),
    ]
    assert d.trend[-1].month == date(2024, 6, 1)
    assert d.previous == pytest.approx(200 / 3)
    assert d.change == pytest.approx(75 - 200 / 3)  # +8.33 points
    assert d.improved is True  # higher is better
    assert d.basis == 4  # four eligible deadlines
    assert d.set_aside == {"deadlines": 1, "cases": 0}
    assert d.set_aside_total == 1
    assert d.format == "pct"


def test_details_in_file_order(ex, card: Scorecard) -> None:  # type: ignore[no-untyped-def]
    details = scorecard_details(ex, card, "B", AS_OF)
    assert [d.spec.id for d in details] == [k.id for k in card.kpis]
    assert [d.row for d in details] == evaluate_scorecard(ex, card, "B", AS_OF)
    # B on 31 May: the same single met deadline → 100; change 0 is neither better nor worse.
    assert details[0].change == 0.0 and details[0].improved is None
    # no notifications at all: no value, no change
    assert details[1].previous is None and details[1].change is None


def test_cascade_children_then_total(ex, card: Scorecard) -> None:  # type: ignore[no-untyped-def]
    rows = cascade(ex, card, "K", AS_OF)
    assert [(r.unit_id, r.name, r.is_total, r.has_children) for r in rows] == [
        ("A", "Team A", False, False),
        ("B", "Team B", False, False),
        ("K", "Kommune", True, True),
    ]
    assert [c.status for c in rows[0].cells] == ["red", "red", "red", "yellow"]
    assert [c.value for c in rows[1].cells][:3] == [100.0, None, 5.0]
    assert list(rows[2].cells) == evaluate_scorecard(ex, card, "K", AS_OF)
    # a team has no children: only its own total row
    assert [r.unit_id for r in cascade(ex, card, "A", AS_OF)] == ["A"]


def test_unknown_metric_is_checked_against_the_extract(ex) -> None:  # type: ignore[no-untyped-def]
    doc = {
        "perspectives": [
            {"id": "p", "name": "P", "kpis": [{"id": "trivsel", "target": 4, "direction": "higher"}]}
        ]
    }
    card = parse_scorecard(doc, "s.toml")  # not in the registry: maybe a measurement kpi_id
    with pytest.raises(ScorecardError) as err:
        evaluate_scorecard(ex, card, "K", AS_OF)
    assert 'perspectives["p"].kpis["trivsel"].metric' in str(err.value)
    assert "'trivsel'" in str(err.value)
    # brugertilfredshed is a measurement kpi_id of the extract (and in the registry)
    doc["perspectives"][0]["kpis"][0]["metric"] = "brugertilfredshed"
    rows = evaluate_scorecard(ex, parse_scorecard(doc), "K", AS_OF)
    assert rows[0].value == pytest.approx(4.75)


def test_measurement_kpi_not_in_registry(ex) -> None:  # type: ignore[no-untyped-def]
    extra = make_extract(
        AS_OF,
        measurements={
            "kpi_id": ["trivsel_ledelse", "trivsel_ledelse"],
            "unit_id": ["A", "B"],
            "period_end": [date(2024, 3, 31)] * 2,
            "value": [3.0, 4.0],
            "respondents": [None, 3],  # a null weight counts as 1
        },
    )
    doc = {
        "perspectives": [
            {
                "id": "p",
                "name": "P",
                "kpis": [{"id": "trivsel_ledelse", "target": 4, "direction": "higher", "tolerance": 0.5}],
            }
        ]
    }
    (row,) = evaluate_scorecard(extra, parse_scorecard(doc), "K", AS_OF)
    assert row.value == pytest.approx((3.0 * 1 + 4.0 * 3) / 4)  # 3.75 → yellow (≥ 3.5)
    assert row.status == "yellow"


def test_owner_seen_from_the_unit(ex, card: Scorecard) -> None:  # type: ignore[no-untyped-def]
    tree = org_tree(ex)
    spec = card.kpis[3]  # owner = team
    assert owner_of(tree, spec, "A") is not None and owner_of(tree, spec, "A").unit_id == "A"  # type: ignore[union-attr]
    above = owner_of(tree, spec, "K")
    assert above is not None and above.unit_id is None and above.level == "team"
    assert owner_of(tree, card.kpis[0], "A") is None  # no owner in the file
