//! Whether the chat is shown: action rules, REST overrides, and when the
//! answer can next change. Pure: no storage, the clock is an argument.
//!
//! The order of precedence is a customer's override, then the account's
//! override, then the action rules:
//!
//! - an override is `{mode: auto | show | hide, until?}`; `show`/`hide`
//!   decide while they last (`until` in the future, or no `until`), `auto`
//!   and expired overrides defer to what comes next;
//! - with no rules the chat is visible; with rules it is visible iff one rule
//!   matches, and a rule matches when all of its conditions hold.
//!
//! [`evaluate`] also says when to ask again (`recheck_after_seconds`): the
//! next instant at which the answer can change by the clock alone — a
//! time-on-page threshold, an opening-hours boundary, an override's `until`
//! — but never later than [`MAX_RECHECK_SECONDS`], because overrides and
//! agent presence change through the API without notice.
//!
//! Opening hours are weekly windows in an IANA time zone. Each window belongs
//! to the day it starts on: `["22:00", "02:00"]` on Friday runs into
//! Saturday's early hours, and `"24:00"` ends a window at midnight. Window
//! edges are local wall-clock times turned into instants per day, so a
//! 09:00–17:00 window opens at 09:00 local time on both sides of a daylight
//! saving change (a wall-clock time skipped by the change maps to the
//! instant right after the gap). A holiday closes the windows that start on
//! that local date.

use crate::base::input::{Errors, Object};
use crate::base::time::Timestamp;
use crate::base::tz::{self, Zone};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The longest the page waits before asking again.
pub const MAX_RECHECK_SECONDS: u64 = 30;
/// Most rules in a list.
pub const MAX_RULES: usize = 50;
/// Most conditions in one rule.
pub const MAX_CONDITIONS: usize = 10;
/// Most windows on one weekday.
pub const MAX_WINDOWS_PER_DAY: usize = 8;
/// Most holiday dates in one opening-hours condition.
pub const MAX_HOLIDAYS: usize = 400;
/// Longest rule id.
pub const MAX_RULE_ID_LEN: usize = 64;
/// Largest `time_on_page` threshold (one day) and `visit` threshold.
pub const MAX_THRESHOLD: u64 = 86_400;

/// Weekday keys, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One action rule: shown when all conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// The caller's name for the rule, reported in `matched_rules`.
    pub id: String,
    /// All must hold.
    pub conditions: Vec<Condition>,
}

/// A condition of a rule.
///
/// Stored as `{"type": "<snake_case variant>", ...fields}`; `Deserialize` is
/// by hand (see below), the same format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// At least one agent is online.
    AgentsOnline,
    /// At least one agent is online and available.
    AgentsAvailable,
    /// Now is inside a weekly window in the zone, and not on a holiday.
    OpeningHours(OpeningHours),
    /// The visitor has been on the page at least this many seconds.
    TimeOnPage {
        /// The threshold.
        seconds: u64,
    },
    /// This is at least the visitor's n-th visit.
    Visit {
        /// The threshold.
        at_least: u64,
    },
}

/// The derived `Deserialize` of an internally tagged enum buffers the
/// document in serde's generic `Content` tree first, ~20 KB of wasm in every
/// component that reads rules. Stored documents are parsed into a
/// `serde_json::Value` anyway ([`crate::storage::doc::from_json`]), so this reads the
/// object, dispatches on `type` and lets derived structs read the fields
/// (unknown fields are ignored, as by the derive).
impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        struct Seconds {
            seconds: u64,
        }
        #[derive(Deserialize)]
        struct AtLeast {
            at_least: u64,
        }
        let object = serde_json::Map::deserialize(deserializer)?;
        let kind = match object.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            Some(_) => return Err(D::Error::custom("the condition type is not a string")),
            None => return Err(D::Error::missing_field("type")),
        };
        let fields = Value::Object(object);
        let map = |e: serde_json::Error| D::Error::custom(e);
        Ok(match kind.as_str() {
            "agents_online" => Condition::AgentsOnline,
            "agents_available" => Condition::AgentsAvailable,
            "opening_hours" => {
                Condition::OpeningHours(OpeningHours::deserialize(fields).map_err(map)?)
            }
            "time_on_page" => Condition::TimeOnPage {
                seconds: Seconds::deserialize(fields).map_err(map)?.seconds,
            },
            "visit" => Condition::Visit {
                at_least: AtLeast::deserialize(fields).map_err(map)?.at_least,
            },
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &[
                        "agents_online",
                        "agents_available",
                        "opening_hours",
                        "time_on_page",
                        "visit",
                    ],
                ));
            }
        })
    }
}

/// Weekly opening hours as the caller wrote them (validated on input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    /// An IANA time zone name, e.g. `Europe/Vienna`.
    pub timezone: String,
    /// `mon`..`sun` → `[["09:00", "17:00"], ...]`; a missing day is closed.
    pub weekly: BTreeMap<String, Vec<[String; 2]>>,
    /// Local dates (`YYYY-MM-DD`) on which no window opens.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// What an override does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Defer to what comes next (the account's override, then the rules).
    Auto,
    /// Always show.
    Show,
    /// Always hide.
    Hide,
}

/// A REST override of visibility, for an account or one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// What it does.
    pub mode: Mode,
    /// When it stops applying; `None`: until changed.
    pub until: Option<Timestamp>,
}

impl Override {
    /// The override that changes nothing.
    pub const AUTO: Override = Override {
        mode: Mode::Auto,
        until: None,
    };

    /// Whether it decides visibility at `now` (`show`/`hide`, not expired).
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.mode != Mode::Auto && self.until.is_none_or(|until| until > now)
    }
}

/// What the page and the account tell about this moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The current time.
    pub now: Timestamp,
    /// Some agent is online.
    pub agents_online: bool,
    /// Some online agent is available.
    pub agents_available: bool,
    /// Seconds the visitor has spent on the page.
    pub time_on_page: u64,
    /// The visitor's visit number (1 on the first visit).
    pub visit: u64,
}

/// Why the chat is shown or hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The customer's override decided.
    CustomerOverride,
    /// The account's override decided.
    AccountOverride,
    /// Nothing is configured: visible.
    NoRules,
    /// At least one rule matched.
    RuleMatched,
    /// Rules are configured and none matched.
    NoRuleMatched,
}

/// The answer of `GET /v1/widget/visibility`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Show the launcher.
    pub visible: bool,
    /// Why.
    pub reason: Reason,
    /// The ids of the rules that match now (also when an override decided).
    pub matched_rules: Vec<String>,
    /// Ask again after this many seconds (1..=[`MAX_RECHECK_SECONDS`]).
    pub recheck_after_seconds: u64,
}

/// Decides visibility. `customer` and `account` are the overrides in force
/// (or [`Override::AUTO`]).
pub fn evaluate(
    rules: &[Rule],
    account: &Override,
    customer: &Override,
    facts: &Facts,
) -> Decision {
    let now = facts.now;
    let mut matched_rules = Vec::new();
    let mut rules_change_at: Option<i64> = None;
    for rule in rules {
        let mut all_hold = true;
        for condition in &rule.conditions {
            let (holds, change) = condition.check(facts);
            all_hold &= holds;
            rules_change_at = earliest(rules_change_at, change);
        }
        if all_hold {
            matched_rules.push(rule.id.clone());
        }
    }
    let decided_by =
        |o: &Override, reason| (o.mode == Mode::Show, reason, o.until.map(Timestamp::millis));
    let (visible, reason, change_at) = if customer.is_active(now) {
        decided_by(customer, Reason::CustomerOverride)
    } else if account.is_active(now) {
        decided_by(account, Reason::AccountOverride)
    } else if rules.is_empty() {
        (true, Reason::NoRules, None)
    } else if matched_rules.is_empty() {
        (false, Reason::NoRuleMatched, rules_change_at)
    } else {
        (true, Reason::RuleMatched, rules_change_at)
    };
    // While an override decides, an override that has not begun to decide
    // yet (a later `until` of the other level) cannot change the answer
    // before this one ends, so its own `until` is the only clock edge.
    Decision {
        visible,
        reason,
        matched_rules,
        recheck_after_seconds: recheck_after(now, change_at),
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whole seconds from `now` to `at` (rounded up, at least 1), capped.
fn recheck_after(now: Timestamp, at: Option<i64>) -> u64 {
    match at {
        None => MAX_RECHECK_SECONDS,
        Some(at) => {
            let millis = (at - now.millis()).max(1);
            let seconds = (millis as u64).div_ceil(1_000);
            seconds.clamp(1, MAX_RECHECK_SECONDS)
        }
    }
}

impl Condition {
    /// Whether it holds, and the next instant (Unix ms) at which that can
    /// change by the clock alone.
    fn check(&self, facts: &Facts) -> (bool, Option<i64>) {
        match self {
            Condition::AgentsOnline => (facts.agents_online, None),
            Condition::AgentsAvailable => (facts.agents_available, None),
            Condition::TimeOnPage { seconds } => {
                if facts.time_on_page >= *seconds {
                    // Time on the page only grows: it keeps holding.
                    (true, None)
                } else {
                    let wait = (*seconds - facts.time_on_page) as i64 * 1_000;
                    (false, Some(facts.now.millis() + wait))
                }
            }
            Condition::Visit { at_least } => (facts.visit >= *at_least, None),
            Condition::OpeningHours(hours) => match hours.compile() {
                Ok(compiled) => compiled.state(facts.now),
                Err(e) => {
                    // Validated on input; only a tz database that dropped a
                    // zone gets here. Closed is the safe answer.
                    eprintln!("error: opening hours cannot be evaluated: {e}");
                    (false, None)
                }
            },
        }
    }
}

/// Minutes since local midnight; 1440 is "24:00".
type Minute = u16;

/// A local date, as days since 1970-01-01.
type Day = i64;

struct CompiledHours {
    zone: Zone,
    weekly: [Vec<(Minute, Minute)>; 7],
    holidays: Vec<Day>,
}

impl OpeningHours {
    fn compile(&self) -> Result<CompiledHours, String> {
        let zone = zone(&self.timezone).ok_or_else(|| format!("unknown zone {}", self.timezone))?;
        let mut weekly: [Vec<(Minute, Minute)>; 7] = Default::default();
        for (day, windows) in &self.weekly {
            let index = DAYS
                .iter()
                .position(|d| d == day)
                .ok_or_else(|| format!("unknown day {day}"))?;
            for [start, end] in windows {
                let start = parse_hhmm(start, false).ok_or("bad start")?;
                let end = parse_hhmm(end, true).ok_or("bad end")?;
                weekly[index].push((start, end));
            }
        }
        let holidays = self
            .holidays
            .iter()
            .map(|d| parse_date(d).ok_or_else(|| format!("bad date {d}")))
            .collect::<Result<_, _>>()?;
        Ok(CompiledHours {
            zone,
            weekly,
            holidays,
        })
    }
}

impl CompiledHours {
    /// Open now?, and the next window edge after now (Unix ms).
    fn state(&self, now: Timestamp) -> (bool, Option<i64>) {
        let seconds = now.millis().div_euclid(1_000);
        let today = (seconds + self.zone.offset_at(seconds)).div_euclid(86_400);
        let now = now.millis();
        let mut open = false;
        let mut next: Option<i64> = None;
        // Yesterday's windows may run past midnight; a week ahead is enough
        // to find the next edge of any non-empty schedule.
        for day in today - 1..=today + 8 {
            if self.holidays.contains(&day) {
                continue;
            }
            for &(start, end) in &self.weekly[tz::weekday_monday0(day)] {
                let end_day = if end <= start { day + 1 } else { day };
                let (start, end) = (self.instant(day, start), self.instant(end_day, end));
                if start <= now && now < end {
                    open = true;
                }
                for edge in [start, end] {
                    if edge > now {
                        next = earliest(next, Some(edge));
                    }
                }
            }
        }
        (open, next)
    }

    /// The instant (Unix ms) of a local wall-clock time (`1440` is the next
    /// midnight). Times in a DST gap map to the instant after the gap,
    /// repeated times to the first occurrence (RFC 5545 "compatible").
    fn instant(&self, day: Day, minute: Minute) -> i64 {
        let local = day * 86_400 + i64::from(minute) * 60;
        self.zone.local_to_utc(local) * 1_000
    }
}

/// The time zone with this IANA name (see [`crate::base::tz`]).
pub fn zone(name: &str) -> Option<Zone> {
    tz::zone(name)
}

fn parse_hhmm(text: &str, allow_24: bool) -> Option<Minute> {
    let b = text.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return None;
    }
    let hours = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let minutes = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    match (hours, minutes) {
        (24, 0) if allow_24 => Some(1_440),
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        _ => None,
    }
}

fn parse_date(text: &str) -> Option<Day> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = text.get(0..4)?.parse().ok()?;
    let month: i64 = text.get(5..7)?.parse().ok()?;
    let day: i64 = text.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&month) || day < 1 || day > tz::days_in_month(year, month) {
        return None;
    }
    Some(tz::days_from_civil(year, month, day))
}

// --- input -------------------------------------------------------------------

/// Reads the body of `PUT /api/v1/action-rules`: a bare array of rules or
/// `{"rules": [...]}`. Every invalid field is named by its JSON path.
pub fn parse_rules(body: &Value) -> crate::base::error::Result<Vec<Rule>> {
    let (items, base) = match body {
        Value::Array(items) => (items, ""),
        Value::Object(map) => match map.get("rules") {
            Some(Value::Array(items)) => (items, "rules"),
            _ => {
                return Err(crate::base::error::Error::field(
                    "rules",
                    "must be an array of rules",
                ));
            }
        },
        _ => {
            return Err(crate::base::error::Error::field(
                "rules",
                "must be an array of rules",
            ));
        }
    };
    if items.len() > MAX_RULES {
        return Err(crate::base::error::Error::field(
            "rules",
            format!("may hold at most {MAX_RULES} rules"),
        ));
    }
    let mut errors = Errors::new();
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = if base.is_empty() {
            format!("[{i}]")
        } else {
            format!("{base}[{i}]")
        };
        if let Some(rule) = parse_rule(item, &path, &mut errors) {
            if let Some(first) = rules.iter().position(|r: &Rule| r.id == rule.id) {
                errors.add(
                    format!("{path}.id"),
                    format!("duplicate rule id {:?} (also at index {first})", rule.id),
                );
            }
            rules.push(rule);
        }
    }
    errors.finish(rules)
}

fn parse_rule(value: &Value, path: &str, errors: &mut Errors) -> Option<Rule> {
    let object = Object::new(value, path, errors)?;
    reject_unknown(&object, value, &["id", "conditions"], errors);
    let id = object.required_str("id", MAX_RULE_ID_LEN, errors);
    let conditions_path = object.path_of("conditions");
    let conditions = match object.get("conditions") {
        Some(Value::Array(items)) if items.is_empty() => {
            errors.add(&conditions_path, "must hold at least one condition");
            None
        }
        Some(Value::Array(items)) if items.len() > MAX_CONDITIONS => {
            errors.add(
                &conditions_path,
                format!("may hold at most {MAX_CONDITIONS} conditions"),
            );
            None
        }
        Some(Value::Array(items)) => {
            let parsed: Vec<Option<Condition>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_condition(item, &format!("{conditions_path}[{i}]"), errors))
                .collect();
            parsed.into_iter().collect::<Option<Vec<_>>>()
        }
        _ => {
            errors.add(&conditions_path, "must be an array of conditions");
            None
        }
    };
    Some(Rule {
        id: id?,
        conditions: conditions?,
    })
}

fn reject_unknown(object: &Object<'_>, value: &Value, known: &[&str], errors: &mut Errors) {
    if let Some(map) = value.as_object() {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                errors.add(
                    object.path_of(key),
                    format!(
                        "is not a known field (expected one of: {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

fn threshold(object: &Object<'_>, name: &str, min: u64, errors: &mut Errors) -> Option<u64> {
    match object.get(name).and_then(Value::as_u64) {
        Some(n) if (min..=MAX_THRESHOLD).contains(&n) => Some(n),
        _ => {
            errors.add(
                object.path_of(name),
                format!("must be an integer from {min} to {MAX_THRESHOLD}"),
            );
            None
        }
    }
}

fn parse_condition(value: &Value, path: &str, errors: &mut Errors) -> Option<Condition> {
    let object = Object::new(value, path, errors)?;
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            errors.add(
                object.path_of("type"),
                "is required: agents_online, agents_available, opening_hours, time_on_page or visit",
            );
            return None;
        }
    };
    match kind {
        "agents_online" => {
            reject_unknown(&object, value, &["type"], errors);
            Some(Condition::AgentsOnline)
        }
        "agents_available" => {
            reject_unknown(&object, value, &["type"], errors);
            Some(Condition::AgentsAvailable)
        }
        "time_on_page" => {
            reject_unknown(&object, value, &["type", "seconds"], errors);
            threshold(&object, "seconds", 0, errors)
                .map(|seconds| Condition::TimeOnPage { seconds })
        }
        "visit" => {
            reject_unknown(&object, value, &["type", "at_least"], errors);
            threshold(&object, "at_least", 1, errors).map(|at_least| Condition::Visit { at_least })
        }
        "opening_hours" => {
            reject_unknown(
                &object,
                value,
                &["type", "timezone", "weekly", "holidays"],
                errors,
            );
            parse_opening_hours(&object, errors).map(Condition::OpeningHours)
        }
        other => {
            errors.add(
                object.path_of("type"),
                format!(
                    "unknown condition {other:?}: use agents_online, agents_available, opening_hours, time_on_page or visit"
                ),
            );
            None
        }
    }
}

fn parse_opening_hours(object: &Object<'_>, errors: &mut Errors) -> Option<OpeningHours> {
    let timezone = match object.get("timezone") {
        Some(Value::String(name)) if zone(name).is_some() => Some(name.clone()),
        Some(Value::String(name)) => {
            errors.add(
                object.path_of("timezone"),
                format!("{name:?} is not an IANA time zone (e.g. Europe/Vienna)"),
            );
            None
        }
        _ => {
            errors.add(
                object.path_of("timezone"),
                "is required: an IANA time zone name such as Europe/Vienna",
            );
            None
        }
    };
    let weekly_path = object.path_of("weekly");
    let mut weekly = BTreeMap::new();
    let mut ok = true;
    match object.get("weekly") {
        Some(Value::Object(days)) => {
            for (day, windows) in days {
                let day_path = format!("{weekly_path}.{day}");
                if !DAYS.contains(&day.as_str()) {
                    errors.add(
                        &day_path,
                        "is not a weekday (use mon, tue, wed, thu, fri, sat, sun)",
                    );
                    ok = false;
                    continue;
                }
                match parse_windows(windows, &day_path, errors) {
                    Some(list) => {
                        weekly.insert(day.clone(), list);
                    }
                    None => ok = false,
                }
            }
        }
        _ => {
            errors.add(
                &weekly_path,
                "is required: an object of weekdays to windows, e.g. {\"mon\": [[\"09:00\", \"17:00\"]]}",
            );
            ok = false;
        }
    }
    let holidays_path = object.path_of("holidays");
    let holidays = match object.get("holidays") {
        None => Some(Vec::new()),
        Some(Value::Array(items)) if items.len() > MAX_HOLIDAYS => {
            errors.add(
                &holidays_path,
                format!("may hold at most {MAX_HOLIDAYS} dates"),
            );
            None
        }
        Some(Value::Array(items)) => {
            let mut dates = Vec::with_capacity(items.len());
            let mut all = true;
            for (i, item) in items.iter().enumerate() {
                match item.as_str().filter(|d| parse_date(d).is_some()) {
                    Some(d) => dates.push(d.to_string()),
                    None => {
                        errors.add(format!("{holidays_path}[{i}]"), "must be a date YYYY-MM-DD");
                        all = false;
                    }
                }
            }
            all.then_some(dates)
        }
        Some(_) => {
            errors.add(&holidays_path, "must be an array of dates YYYY-MM-DD");
            None
        }
    };
    if !ok {
        return None;
    }
    Some(OpeningHours {
        timezone: timezone?,
        weekly,
        holidays: holidays?,
    })
}

fn parse_windows(value: &Value, path: &str, errors: &mut Errors) -> Option<Vec<[String; 2]>> {
    let Value::Array(items) = value else {
        errors.add(path, "must be an array of [\"HH:MM\", \"HH:MM\"] windows");
        return None;
    };
    if items.len() > MAX_WINDOWS_PER_DAY {
        errors.add(
            path,
            format!("may hold at most {MAX_WINDOWS_PER_DAY} windows"),
        );
        return None;
    }
    let mut windows = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let window_path = format!("{path}[{i}]");
        let pair = item
            .as_array()
            .filter(|p| p.len() == 2)
            .and_then(|p| Some((p[0].as_str()?, p[1].as_str()?)));
        let Some((start, end)) = pair else {
            errors.add(&window_path, "must be a pair [\"HH:MM\", \"HH:MM\"]");
            ok = false;
            continue;
        };
        match (parse_hhmm(start, false), parse_hhmm(end, true)) {
            // "24:00" is 1440, not 0: ["00:00", "24:00"] is the whole day.
            (Some(s), Some(e)) if s == e => {
                errors.add(
                    &window_path,
                    "start and end are the same time; use [\"00:00\", \"24:00\"] for a whole day",
                );
                ok = false;
            }
            (Some(_), Some(_)) => windows.push([start.to_string(), end.to_string()]),
            (None, _) => {
                errors.add(
                    format!("{window_path}[0]"),
                    "must be a time HH:MM from 00:00 to 23:59",
                );
                ok = false;
            }
            (_, None) => {
                errors.add(
                    format!("{window_path}[1]"),
                    "must be a time HH:MM from 00:00 to 24:00",
                );
                ok = false;
            }
        }
    }
    ok.then_some(windows)
}

/// Reads `{mode, until?}`. `until` must lie after `now`: an override that
/// is over before it is stored is a caller's mistake.
pub fn parse_override(body: &Value, now: Timestamp) -> crate::base::error::Result<Override> {
    let mut errors = Errors::new();
    let parsed = Object::new(body, "", &mut errors).and_then(|object| {
        reject_unknown(&object, body, &["mode", "until"], &mut errors);
        let mode = match object.get("mode").and_then(Value::as_str) {
            Some("auto") => Some(Mode::Auto),
            Some("show") => Some(Mode::Show),
            Some("hide") => Some(Mode::Hide),
            _ => {
                errors.add("mode", "must be \"auto\", \"show\" or \"hide\"");
                None
            }
        };
        let until = match object.get("until") {
            None => Some(None),
            Some(Value::String(text)) => match Timestamp::parse(text) {
                Some(t) if t > now => Some(Some(t)),
                Some(_) => {
                    errors.add("until", "must be in the future");
                    None
                }
                None => {
                    errors.add(
                        "until",
                        "must be an RFC 3339 time, e.g. 2026-12-24T18:00:00Z",
                    );
                    None
                }
            },
            Some(_) => {
                errors.add(
                    "until",
                    "must be an RFC 3339 time, e.g. 2026-12-24T18:00:00Z",
                );
                None
            }
        };
        Some(Override {
            mode: mode?,
            until: until?,
        })
    });
    errors.finish_with(parsed)
}

#[cfg(test)]
mod tests;
