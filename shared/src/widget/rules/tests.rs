//! Rule evaluation as a table of cases at fixed instants. Times are UTC;
//! comments give the local wall-clock time the case is about.

use super::*;
use crate::base::error::Error;
use serde_json::json;

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|| panic!("bad instant {text}"))
}

fn rules(value: Value) -> Vec<Rule> {
    parse_rules(&value).unwrap_or_else(|e| panic!("rules {value} rejected: {e}"))
}

fn hours(timezone: &str, weekly: Value, holidays: Value) -> Value {
    json!([{"id": "hours", "conditions": [
        {"type": "opening_hours", "timezone": timezone, "weekly": weekly, "holidays": holidays}
    ]}])
}

fn every_day(window: [&str; 2]) -> Value {
    let mut days = serde_json::Map::new();
    for day in DAYS {
        days.insert(day.into(), json!([window]));
    }
    Value::Object(days)
}

fn weekdays(window: [&str; 2]) -> Value {
    json!({"mon": [window], "tue": [window], "wed": [window], "thu": [window], "fri": [window]})
}

const NOTHING: Override = Override::AUTO;

fn show(until: Option<&str>) -> Override {
    Override {
        mode: Mode::Show,
        until: until.map(at),
    }
}

fn hide(until: Option<&str>) -> Override {
    Override {
        mode: Mode::Hide,
        until: until.map(at),
    }
}

struct Case {
    name: &'static str,
    rules: Value,
    account: Override,
    customer: Override,
    now: &'static str,
    /// agents online, agents available, seconds on the page, visit number
    facts: (bool, bool, u64, u64),
    visible: bool,
    reason: Reason,
    matched: &'static [&'static str],
    recheck: u64,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            rules: json!([]),
            account: NOTHING,
            customer: NOTHING,
            now: "2026-06-10T12:00:00Z",
            facts: (false, false, 0, 1),
            visible: true,
            reason: Reason::NoRules,
            matched: &[],
            recheck: MAX_RECHECK_SECONDS,
        }
    }
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let (agents_online, agents_available, time_on_page, visit) = case.facts;
        let facts = Facts {
            now: at(case.now),
            agents_online,
            agents_available,
            time_on_page,
            visit,
        };
        let got = evaluate(
            &rules(case.rules.clone()),
            &case.account,
            &case.customer,
            &facts,
        );
        let want = Decision {
            visible: case.visible,
            reason: case.reason,
            matched_rules: case.matched.iter().map(|s| s.to_string()).collect(),
            recheck_after_seconds: case.recheck,
        };
        if got != want {
            failures.push(format!("{}:\n   want {want:?}\n    got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn open(name: &'static str, rules: Value, now: &'static str, recheck: u64) -> Case {
    Case {
        name,
        rules,
        now,
        visible: true,
        reason: Reason::RuleMatched,
        matched: &["hours"],
        recheck,
        ..Case::default()
    }
}

fn closed(name: &'static str, rules: Value, now: &'static str, recheck: u64) -> Case {
    Case {
        name,
        rules,
        now,
        visible: false,
        reason: Reason::NoRuleMatched,
        recheck,
        ..Case::default()
    }
}

#[test]
fn nothing_configured_is_visible() {
    run(vec![Case {
        name: "no rules, no overrides",
        ..Case::default()
    }]);
}

#[test]
fn opening_hours_follow_daylight_saving_in_vienna() {
    let vienna = || hours("Europe/Vienna", every_day(["09:00", "17:00"]), json!([]));
    run(vec![
        // Saturday 2026-03-28 is still CET (UTC+1): 09:00 local is 08:00Z.
        closed(
            "Vienna CET, 08:59:50 local",
            vienna(),
            "2026-03-28T07:59:50Z",
            10,
        ),
        open(
            "Vienna CET, 09:00 local",
            vienna(),
            "2026-03-28T08:00:00Z",
            30,
        ),
        open(
            "Vienna CET, 16:59:55 local",
            vienna(),
            "2026-03-28T15:59:55Z",
            5,
        ),
        closed(
            "Vienna CET, 17:00 local",
            vienna(),
            "2026-03-28T16:00:00Z",
            30,
        ),
        // Sunday 2026-03-29 clocks go forward at 02:00: 09:00 local is 07:00Z.
        closed(
            "Vienna spring-forward day, 08:59:50 CEST",
            vienna(),
            "2026-03-29T06:59:50Z",
            10,
        ),
        open(
            "Vienna spring-forward day, 09:00 CEST",
            vienna(),
            "2026-03-29T07:00:00Z",
            30,
        ),
        open(
            "Vienna spring-forward day, 09:59 CEST (08:59 by CET)",
            vienna(),
            "2026-03-29T07:59:00Z",
            30,
        ),
        closed(
            "Vienna spring-forward day, 17:00 CEST",
            vienna(),
            "2026-03-29T15:00:00Z",
            30,
        ),
        // Sunday 2026-10-25 clocks go back at 03:00: 09:00 local is 08:00Z again.
        open(
            "Vienna day before fall-back, 09:30 CEST",
            vienna(),
            "2026-10-24T07:30:00Z",
            30,
        ),
        closed(
            "Vienna fall-back day, 08:30 CET (09:30 by CEST)",
            vienna(),
            "2026-10-25T07:30:00Z",
            30,
        ),
        closed(
            "Vienna fall-back day, 08:59:58 CET",
            vienna(),
            "2026-10-25T07:59:58Z",
            2,
        ),
        open(
            "Vienna fall-back day, 09:00 CET",
            vienna(),
            "2026-10-25T08:00:00Z",
            30,
        ),
    ]);
}

#[test]
fn opening_hours_follow_daylight_saving_in_new_york() {
    let new_york = || hours("America/New_York", every_day(["09:00", "17:00"]), json!([]));
    run(vec![
        // Saturday 2026-03-07 is EST (UTC-5): 09:00 local is 14:00Z.
        closed(
            "New York EST, 08:30",
            new_york(),
            "2026-03-07T13:30:00Z",
            30,
        ),
        open(
            "New York EST, 09:00",
            new_york(),
            "2026-03-07T14:00:00Z",
            30,
        ),
        // Sunday 2026-03-08 clocks go forward: 09:00 EDT is 13:00Z.
        closed(
            "New York spring-forward day, 08:59:50 EDT",
            new_york(),
            "2026-03-08T12:59:50Z",
            10,
        ),
        open(
            "New York spring-forward day, 09:30 EDT",
            new_york(),
            "2026-03-08T13:30:00Z",
            30,
        ),
        open(
            "New York spring-forward day, 16:59:59 EDT",
            new_york(),
            "2026-03-08T20:59:59Z",
            1,
        ),
        closed(
            "New York spring-forward day, 17:00 EDT",
            new_york(),
            "2026-03-08T21:00:00Z",
            30,
        ),
        // Sunday 2026-11-01 clocks go back: 09:00 EST is 14:00Z.
        open(
            "New York day before fall-back, 09:30 EDT",
            new_york(),
            "2026-10-31T13:30:00Z",
            30,
        ),
        closed(
            "New York fall-back day, 08:30 EST",
            new_york(),
            "2026-11-01T13:30:00Z",
            30,
        ),
        open(
            "New York fall-back day, 09:00 EST",
            new_york(),
            "2026-11-01T14:00:00Z",
            30,
        ),
        closed(
            "New York fall-back day, 17:00 EST",
            new_york(),
            "2026-11-01T22:00:00Z",
            30,
        ),
    ]);
}

/// The whole-day window that the "same time" error message recommends.
#[test]
fn a_whole_day_window_is_accepted() {
    let whole_day = hours("Europe/Vienna", every_day(["00:00", "24:00"]), json!([]));
    let parsed = rules(whole_day);
    assert_eq!(parsed.len(), 1);
    assert!(parse_rules(&hours("UTC", every_day(["09:00", "09:00"]), json!([]))).is_err());
}

#[test]
fn a_window_may_cross_midnight_and_belongs_to_the_day_it_starts() {
    // Friday 2026-03-27, 22:00 to Saturday 02:00 (CET); nothing on Saturday.
    let late = || {
        hours(
            "Europe/Vienna",
            json!({"fri": [["22:00", "02:00"]]}),
            json!([]),
        )
    };
    // Saturday 2026-03-28 22:00 CET to Sunday 04:00 CEST: over midnight *and* the clock change.
    let over_dst = || {
        hours(
            "Europe/Vienna",
            json!({"sat": [["22:00", "04:00"]]}),
            json!([]),
        )
    };
    // Sunday evening until midnight.
    let to_midnight = || {
        hours(
            "Europe/Vienna",
            json!({"sun": [["18:00", "24:00"]]}),
            json!([]),
        )
    };
    run(vec![
        closed("Friday 21:59:50", late(), "2026-03-27T20:59:50Z", 10),
        open("Friday 22:30", late(), "2026-03-27T21:30:00Z", 30),
        open(
            "Saturday 01:30, in Friday's window",
            late(),
            "2026-03-28T00:30:00Z",
            30,
        ),
        open("Saturday 01:59:50", late(), "2026-03-28T00:59:50Z", 10),
        closed("Saturday 02:00", late(), "2026-03-28T01:00:00Z", 30),
        closed(
            "Saturday 22:30 has no window of its own",
            late(),
            "2026-03-28T21:30:00Z",
            30,
        ),
        open(
            "Sunday 03:30 CEST, after the gap",
            over_dst(),
            "2026-03-29T01:30:00Z",
            30,
        ),
        open(
            "Sunday 03:59:50 CEST",
            over_dst(),
            "2026-03-29T01:59:50Z",
            10,
        ),
        closed("Sunday 04:00 CEST", over_dst(), "2026-03-29T02:00:00Z", 30),
        open(
            "Sunday 23:59:50 CEST",
            to_midnight(),
            "2026-03-29T21:59:50Z",
            10,
        ),
        closed(
            "Monday 00:00 CEST",
            to_midnight(),
            "2026-03-29T22:00:00Z",
            30,
        ),
    ]);
}

#[test]
fn holidays_close_the_windows_that_start_on_them() {
    // Friday 2026-12-25 is a holiday; Thursday's late window runs into it.
    let office = || {
        let mut weekly = weekdays(["09:00", "17:00"]);
        weekly["thu"] = json!([["09:00", "17:00"], ["22:00", "02:00"]]);
        hours("Europe/Vienna", weekly, json!(["2026-12-25"]))
    };
    run(vec![
        open(
            "Thursday before, 11:00",
            office(),
            "2026-12-24T10:00:00Z",
            30,
        ),
        open(
            "Thursday before, 16:59:50",
            office(),
            "2026-12-24T15:59:50Z",
            10,
        ),
        open(
            "holiday 00:30, in Thursday's late window",
            office(),
            "2026-12-24T23:30:00Z",
            30,
        ),
        closed(
            "holiday 08:59:50: no opening at 09:00",
            office(),
            "2026-12-25T07:59:50Z",
            30,
        ),
        closed("holiday 11:00", office(), "2026-12-25T10:00:00Z", 30),
        closed(
            "Monday after, 08:59:55",
            office(),
            "2026-12-28T07:59:55Z",
            5,
        ),
        open("Monday after, 09:00", office(), "2026-12-28T08:00:00Z", 30),
    ]);
}

#[test]
fn each_condition_alone() {
    let rule = |condition: Value| json!([{"id": "r", "conditions": [condition]}]);
    let yes = |name, condition, facts, recheck| Case {
        name,
        rules: rule(condition),
        facts,
        visible: true,
        reason: Reason::RuleMatched,
        matched: &["r"],
        recheck,
        ..Case::default()
    };
    let no = |name, condition, facts, recheck| Case {
        name,
        rules: rule(condition),
        facts,
        visible: false,
        reason: Reason::NoRuleMatched,
        recheck,
        ..Case::default()
    };
    let online = || json!({"type": "agents_online"});
    let available = || json!({"type": "agents_available"});
    let top = || json!({"type": "time_on_page", "seconds": 30});
    let visit = || json!({"type": "visit", "at_least": 2});
    run(vec![
        yes("agents online", online(), (true, false, 0, 1), 30),
        no("no agent online", online(), (false, false, 0, 1), 30),
        yes("an agent available", available(), (true, true, 0, 1), 30),
        no(
            "agents online but none available",
            available(),
            (true, false, 0, 1),
            30,
        ),
        no(
            "10 s on the page, threshold 30",
            top(),
            (false, false, 10, 1),
            20,
        ),
        no(
            "29 s on the page, threshold 30",
            top(),
            (false, false, 29, 1),
            1,
        ),
        yes("30 s on the page", top(), (false, false, 30, 1), 30),
        yes("an hour on the page", top(), (false, false, 3_600, 1), 30),
        no(
            "first visit, needs the second",
            visit(),
            (false, false, 0, 1),
            30,
        ),
        yes("second visit", visit(), (false, false, 0, 2), 30),
        yes("fifth visit", visit(), (false, false, 0, 5), 30),
    ]);
}

#[test]
fn conditions_combine_within_a_rule_and_rules_combine_by_any() {
    let office_chat = || {
        json!([{"id": "office", "conditions": [
            {"type": "agents_online"}, {"type": "agents_available"},
            {"type": "opening_hours", "timezone": "Europe/Vienna", "weekly": {"wed": [["09:00", "17:00"]]}},
            {"type": "time_on_page", "seconds": 30}, {"type": "visit", "at_least": 2}
        ]}])
    };
    let two_rules = || {
        json!([
            {"id": "engaged", "conditions": [{"type": "time_on_page", "seconds": 20}, {"type": "agents_online"}]},
            {"id": "returning", "conditions": [{"type": "visit", "at_least": 3}]}
        ])
    };
    // Wednesday 2026-06-10 14:00 CEST.
    let wednesday = "2026-06-10T12:00:00Z";
    let all = |name, facts, visible, matched: &'static [&'static str], recheck| Case {
        name,
        rules: office_chat(),
        now: wednesday,
        facts,
        visible,
        reason: if visible {
            Reason::RuleMatched
        } else {
            Reason::NoRuleMatched
        },
        matched,
        recheck,
        ..Case::default()
    };
    run(vec![
        all("all five hold", (true, true, 45, 2), true, &["office"], 30),
        all("no agent available", (true, false, 45, 2), false, &[], 30),
        all(
            "too early on the page: recheck at the threshold",
            (true, true, 12, 2),
            false,
            &[],
            18,
        ),
        all("first visit", (true, true, 45, 1), false, &[], 30),
        Case {
            name: "outside the hours, an hour before closing the page would otherwise match",
            rules: office_chat(),
            now: "2026-06-10T15:00:05Z",
            facts: (true, true, 45, 2),
            visible: false,
            reason: Reason::NoRuleMatched,
            ..Case::default()
        },
        Case {
            name: "one of two rules matches",
            rules: two_rules(),
            facts: (false, false, 0, 4),
            reason: Reason::RuleMatched,
            matched: &["returning"],
            recheck: 20,
            ..Case::default()
        },
        Case {
            name: "both rules match",
            rules: two_rules(),
            facts: (true, false, 25, 4),
            reason: Reason::RuleMatched,
            matched: &["engaged", "returning"],
            ..Case::default()
        },
        Case {
            name: "neither rule matches",
            rules: two_rules(),
            facts: (false, false, 25, 1),
            visible: false,
            reason: Reason::NoRuleMatched,
            ..Case::default()
        },
    ]);
}

#[test]
fn overrides_take_precedence_customer_over_account_over_rules() {
    let never = || json!([{"id": "returning", "conditions": [{"type": "visit", "at_least": 99}]}]);
    let always = || json!([{"id": "first", "conditions": [{"type": "visit", "at_least": 1}]}]);
    run(vec![
        Case {
            name: "account hide beats no rules",
            account: hide(None),
            visible: false,
            reason: Reason::AccountOverride,
            ..Case::default()
        },
        Case {
            name: "account show beats rules that do not match",
            rules: never(),
            account: show(None),
            reason: Reason::AccountOverride,
            ..Case::default()
        },
        Case {
            name: "account hide beats a matching rule (which is still reported)",
            rules: always(),
            account: hide(None),
            visible: false,
            reason: Reason::AccountOverride,
            matched: &["first"],
            ..Case::default()
        },
        Case {
            name: "customer show beats account hide",
            account: hide(None),
            customer: show(None),
            reason: Reason::CustomerOverride,
            ..Case::default()
        },
        Case {
            name: "customer hide beats account show",
            account: show(None),
            customer: hide(None),
            visible: false,
            reason: Reason::CustomerOverride,
            ..Case::default()
        },
        Case {
            name: "customer auto defers to the account",
            account: hide(None),
            customer: Override::AUTO,
            visible: false,
            reason: Reason::AccountOverride,
            ..Case::default()
        },
        Case {
            name: "account auto defers to the rules",
            rules: never(),
            account: Override {
                mode: Mode::Auto,
                until: Some(at("2026-06-10T13:00:00Z")),
            },
            visible: false,
            reason: Reason::NoRuleMatched,
            ..Case::default()
        },
    ]);
}

#[test]
fn overrides_expire_at_until_and_the_page_rechecks_then() {
    let now = "2026-06-10T12:00:00Z";
    run(vec![
        Case {
            name: "hide for 10 more seconds",
            account: hide(Some("2026-06-10T12:00:10Z")),
            now,
            visible: false,
            reason: Reason::AccountOverride,
            recheck: 10,
            ..Case::default()
        },
        Case {
            name: "hide for 2.5 more seconds rounds up",
            account: hide(Some("2026-06-10T12:00:02.500Z")),
            now,
            visible: false,
            reason: Reason::AccountOverride,
            recheck: 3,
            ..Case::default()
        },
        Case {
            name: "hide for a day: recheck is capped",
            account: hide(Some("2026-06-11T12:00:00Z")),
            now,
            visible: false,
            reason: Reason::AccountOverride,
            recheck: MAX_RECHECK_SECONDS,
            ..Case::default()
        },
        Case {
            name: "at until the override is over",
            account: hide(Some(now)),
            now,
            ..Case::default()
        },
        Case {
            name: "an expired customer show falls back to the account's hide",
            account: hide(None),
            customer: show(Some("2026-06-10T11:00:00Z")),
            now,
            visible: false,
            reason: Reason::AccountOverride,
            ..Case::default()
        },
        Case {
            name: "customer show for 5 s over account hide for longer: recheck at 5 s",
            account: hide(Some("2026-06-10T12:01:40Z")),
            customer: show(Some("2026-06-10T12:00:05Z")),
            now,
            reason: Reason::CustomerOverride,
            recheck: 5,
            ..Case::default()
        },
        Case {
            name: "after the customer's, the account's override still decides",
            account: hide(Some("2026-06-10T12:01:40Z")),
            customer: show(Some("2026-06-10T12:00:05Z")),
            now: "2026-06-10T12:00:05Z",
            visible: false,
            reason: Reason::AccountOverride,
            recheck: 30,
            ..Case::default()
        },
    ]);
}

fn invalid_fields(body: Value) -> Vec<String> {
    match parse_rules(&body) {
        Err(Error::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error for {body}, got {other:?}"),
    }
}

#[test]
fn invalid_rules_are_refused_naming_the_field() {
    let oh = |extra: Value| {
        let mut condition = json!({"type": "opening_hours", "timezone": "Europe/Vienna", "weekly": {"mon": [["09:00", "17:00"]]}});
        for (k, v) in extra.as_object().unwrap() {
            condition[k] = v.clone();
        }
        json!([{"id": "a", "conditions": [condition]}])
    };
    let cases = [
        (json!({"rules": "x"}), "rules"),
        (
            json!([{"conditions": [{"type": "agents_online"}]}]),
            "[0].id",
        ),
        (json!([{"id": "a", "conditions": []}]), "[0].conditions"),
        (
            json!({"rules": [{"id": "a", "conditions": [{"type": "moon_phase"}]}]}),
            "rules[0].conditions[0].type",
        ),
        (
            json!([{"id": "a", "conditions": [{"type": "time_on_page"}]}]),
            "[0].conditions[0].seconds",
        ),
        (
            json!([{"id": "a", "conditions": [{"type": "time_on_page", "seconds": -1}]}]),
            "[0].conditions[0].seconds",
        ),
        (
            json!([{"id": "a", "conditions": [{"type": "visit", "at_least": 0}]}]),
            "[0].conditions[0].at_least",
        ),
        (
            json!([{"id": "a", "conditions": [{"type": "agents_online", "extra": 1}]}]),
            "[0].conditions[0].extra",
        ),
        (
            oh(json!({"timezone": "Mars/Olympus"})),
            "[0].conditions[0].timezone",
        ),
        (
            oh(json!({"timezone": "+02:00"})),
            "[0].conditions[0].timezone",
        ),
        (
            oh(json!({"weekly": {"monday": []}})),
            "[0].conditions[0].weekly.monday",
        ),
        (
            oh(json!({"weekly": {"mon": [["9:00", "17:00"]]}})),
            "[0].conditions[0].weekly.mon[0][0]",
        ),
        (
            oh(json!({"weekly": {"mon": [["09:00", "24:01"]]}})),
            "[0].conditions[0].weekly.mon[0][1]",
        ),
        (
            oh(json!({"weekly": {"mon": [["24:00", "10:00"]]}})),
            "[0].conditions[0].weekly.mon[0][0]",
        ),
        (
            oh(json!({"weekly": {"mon": [["09:00", "09:00"]]}})),
            "[0].conditions[0].weekly.mon[0]",
        ),
        (
            oh(json!({"weekly": {"mon": [["09:00"]]}})),
            "[0].conditions[0].weekly.mon[0]",
        ),
        (
            oh(json!({"holidays": ["2026-02-30"]})),
            "[0].conditions[0].holidays[0]",
        ),
        (
            oh(json!({"holidays": "2026-12-25"})),
            "[0].conditions[0].holidays",
        ),
        (
            json!([{"id": "a", "conditions": [{"type": "agents_online"}]}, {"id": "a", "conditions": [{"type": "agents_online"}]}]),
            "[1].id",
        ),
    ];
    for (body, field) in cases {
        let fields = invalid_fields(body.clone());
        assert!(
            fields.contains(&field.to_string()),
            "{field} not in {fields:?} for {body}"
        );
    }
    let too_many: Vec<Value> = (0..=MAX_RULES)
        .map(|i| json!({"id": format!("r{i}"), "conditions": [{"type": "agents_online"}]}))
        .collect();
    assert_eq!(invalid_fields(Value::Array(too_many)), ["rules"]);
}

#[test]
fn the_documented_example_rule_is_accepted_and_round_trips() {
    let body = json!([{"id": "office", "conditions": [{"type": "agents_online"},
        {"type": "agents_available"}, {"type": "opening_hours", "timezone":
        "Europe/Vienna", "weekly": {"mon": [["09:00", "17:00"]], "sat": []},
        "holidays": ["2026-12-25"]}, {"type": "time_on_page", "seconds": 30},
        {"type": "visit", "at_least": 2}]}]);
    let parsed = parse_rules(&body).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), body);
    let wrapped = parse_rules(&json!({ "rules": body })).unwrap();
    assert_eq!(wrapped, parsed);
}

#[test]
fn stored_rules_read_back_as_written() {
    let body = json!([{"id": "office", "conditions": [{"type": "agents_online"},
        {"type": "agents_available"}, {"type": "opening_hours", "timezone":
        "Europe/Vienna", "weekly": {"mon": [["09:00", "17:00"]]}},
        {"type": "time_on_page", "seconds": 30}, {"type": "visit", "at_least": 2}]}]);
    let rules = parse_rules(&body).unwrap();
    let stored = serde_json::to_vec(&rules).unwrap();
    assert_eq!(
        crate::storage::doc::from_json::<Vec<Rule>>(&stored).unwrap(),
        rules
    );
    assert_eq!(serde_json::from_slice::<Vec<Rule>>(&stored).unwrap(), rules);
    let read = |text: &str| crate::storage::doc::from_json::<Condition>(text.as_bytes());
    assert_eq!(
        read(r#"{"type": "visit", "at_least": 3, "extra": 1}"#).unwrap(),
        Condition::Visit { at_least: 3 }
    );
    for bad in [
        r#"{"type": "weather"}"#,
        r#"{"seconds": 3}"#,
        r#"{"type": 1}"#,
        r#"{"type": "visit"}"#,
        "[]",
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
}

#[test]
fn overrides_are_read_and_a_past_until_is_refused() {
    let now = at("2026-06-10T12:00:00Z");
    assert_eq!(
        parse_override(&json!({"mode": "hide"}), now),
        Ok(hide(None))
    );
    assert_eq!(
        parse_override(
            &json!({"mode": "show", "until": "2026-06-10T16:00:00+02:00"}),
            now
        ),
        Ok(show(Some("2026-06-10T14:00:00Z")))
    );
    for (body, field) in [
        (json!({}), "mode"),
        (json!({"mode": "sometimes"}), "mode"),
        (json!({"mode": "hide", "until": "tomorrow"}), "until"),
        (
            json!({"mode": "hide", "until": "2026-06-10T11:59:59Z"}),
            "until",
        ),
        (
            json!({"mode": "hide", "until": "2026-06-10T14:00:00+02:00"}),
            "until",
        ),
        (json!({"mode": "hide", "because": "x"}), "because"),
    ] {
        let Err(Error::Invalid(errors)) = parse_override(&body, now) else {
            panic!("expected a validation error for {body}");
        };
        assert!(
            errors.iter().any(|e| e.field == field),
            "{field} in {errors:?}"
        );
    }
}
