//! Flow schedules: `"schedule": {"every": 60}` (seconds) or `"schedule": {"cron": "*/5 * * * *"}`
//! (minute, hour, day of month, month, day of week; UTC). `flowyt serve` triggers a scheduled
//! flow on time and records each run like a manual trigger.

use std::fmt;

/// What a schedule does about the ticks nobody fired (every instance was down): `"catchup":
/// true` in the schedule runs them all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Catchup {
    /// Only the latest missed tick runs (Airflow's `catchup=False`); the default.
    #[default]
    Latest,
    /// Every missed tick runs, oldest first (Airflow's `catchup=True`).
    All,
}

/// When a flow runs by itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// Every so many seconds, the first time one interval after start-up.
    Every(f64),
    /// At the minutes a cron expression matches.
    Cron(Cron),
}

impl Schedule {
    /// The next time (Unix seconds) after `now` the flow should run.
    pub fn next_after(&self, now: f64) -> Option<f64> {
        match self {
            Schedule::Every(secs) => Some(now + secs),
            Schedule::Cron(c) => c.next_after(now),
        }
    }

    /// The latest tick at or before `now`, given that `due` (at or before `now`) is one: after
    /// an outage, the one tick a schedule without catch-up runs (Airflow's `catchup=False`).
    pub fn latest_due(&self, due: f64, now: f64) -> f64 {
        match self {
            Schedule::Every(secs) if *secs > 0.0 && now > due => {
                due + ((now - due) / secs).floor() * secs
            }
            Schedule::Every(_) => due,
            Schedule::Cron(c) => {
                let mut tick = due;
                // Minutes are walked one match at a time; a long outage of a frequent cron is
                // skipped in bounded steps.
                for _ in 0..100_000 {
                    match c.next_after(tick) {
                        Some(next) if next <= now => tick = next,
                        _ => break,
                    }
                }
                tick
            }
        }
    }
}

impl fmt::Display for Schedule {
    /// `every 60` or `cron */5 * * * *`: what the schedule is, as stored beside its state.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(secs) => write!(f, "every {secs}"),
            Schedule::Cron(c) => write!(f, "cron {}", c.source),
        }
    }
}

/// `secs` (Unix time) as ISO-8601 in UTC with milliseconds: `2026-12-02T06:31:48.123Z`.
pub fn iso8601(secs: f64) -> String {
    let millis = (secs * 1000.0).round() as i64;
    let minute = millis.div_euclid(60_000);
    let in_minute = millis.rem_euclid(60_000);
    let (y, mo, d, h, mi, _) = civil(minute);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}.{:03}Z",
        in_minute / 1000,
        in_minute % 1000
    )
}

/// A five-field cron expression (UTC).
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    pub(crate) source: String,
    pub(crate) minutes: u64,
    pub(crate) hours: u32,
    pub(crate) days: u32,
    pub(crate) months: u16,
    pub(crate) weekdays: u8,
    /// Both day fields restricted: a day matches either (classic cron).
    pub(crate) either_day: bool,
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.source)
    }
}

fn field(text: &str, min: u32, max: u32, what: &str) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let restricted = text != "*";
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("bad step `{s}` in the {what} field"))?;
                if step == 0 {
                    return Err(format!("a step of 0 in the {what} field"));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a: u32 = a
                .parse()
                .map_err(|_| format!("bad value `{a}` in the {what} field"))?;
            let b: u32 = b
                .parse()
                .map_err(|_| format!("bad value `{b}` in the {what} field"))?;
            (a, b)
        } else {
            let v: u32 = range
                .parse()
                .map_err(|_| format!("bad value `{range}` in the {what} field"))?;
            (v, if step > 1 { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!(
                "the {what} field must stay within {min}-{max}, found `{part}`"
            ));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, restricted))
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week` (`*`, `5`, `1-5`, `*/15`, `1,3`;
    /// day of week 0-7 with 0 and 7 both Sunday).
    pub fn parse(text: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [m, h, dom, mon, dow] = fields.as_slice() else {
            return Err(format!(
                "a cron schedule has five fields (minute hour day month weekday), found {}",
                fields.len()
            ));
        };
        let (minutes, _) = field(m, 0, 59, "minute")?;
        let (hours, _) = field(h, 0, 23, "hour")?;
        let (days, dom_restricted) = field(dom, 1, 31, "day-of-month")?;
        let (months, _) = field(mon, 1, 12, "month")?;
        let (mut weekdays, dow_restricted) = field(dow, 0, 7, "day-of-week")?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Cron {
            source: text.to_string(),
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: (weekdays & 0x7f) as u8,
            either_day: dom_restricted && dow_restricted,
        })
    }

    fn matches(&self, minute_index: i64) -> bool {
        let (y, mo, d, h, mi, wd) = civil(minute_index);
        let _ = y;
        let day_ok = if self.either_day {
            self.days & (1 << d) != 0 || self.weekdays & (1 << wd) != 0
        } else {
            self.days & (1 << d) != 0 && self.weekdays & (1 << wd) != 0
        };
        self.minutes & (1 << mi) != 0
            && self.hours & (1 << h) != 0
            && self.months & (1 << mo) != 0
            && day_ok
    }

    /// The first matching minute strictly after `now` (Unix seconds), within five years.
    pub fn next_after(&self, now: f64) -> Option<f64> {
        let start = (now / 60.0).floor() as i64 + 1;
        (start..start + 5 * 366 * 24 * 60)
            .find(|m| self.matches(*m))
            .map(|m| m as f64 * 60.0)
    }
}

/// (year, month 1-12, day 1-31, hour, minute, weekday 0=Sunday) of a Unix minute, UTC.
fn civil(minute_index: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = minute_index.div_euclid(24 * 60);
    let in_day = minute_index.rem_euclid(24 * 60);
    let (h, mi) = ((in_day / 60) as u32, (in_day % 60) as u32);
    let weekday = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, h, mi, weekday)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23 10:53:00 UTC, a Monday.
    const MONDAY: f64 = 1_795_431_180.0;

    #[test]
    fn iso_times_and_latest_ticks() {
        assert_eq!(iso8601(MONDAY + 7.25), "2026-11-23T10:53:07.250Z");
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
        let every = Schedule::Every(10.0);
        assert_eq!(every.latest_due(100.0, 100.0), 100.0);
        assert_eq!(every.latest_due(100.0, 135.0), 130.0);
        let cron = Schedule::Cron(Cron::parse("*/5 * * * *").expect("parses"));
        let due = 60.0 * 5.0;
        assert_eq!(cron.latest_due(due, due + 60.0 * 12.0), due + 60.0 * 10.0);
        assert_eq!(every.to_string(), "every 10");
        assert_eq!(cron.to_string(), "cron */5 * * * *");
    }

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil((MONDAY / 60.0) as i64), (2026, 11, 23, 10, 53, 1));
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 4));
    }

    #[test]
    fn next_times() {
        let every5 = Cron::parse("*/5 * * * *").expect("valid");
        assert_eq!(every5.next_after(MONDAY), Some(MONDAY + 120.0)); // 10:55
        let nine = Cron::parse("0 9 * * 1-5").expect("valid");
        // Tuesday 09:00 is 22h07m later.
        assert_eq!(
            nine.next_after(MONDAY),
            Some(MONDAY + (22.0 * 60.0 + 7.0) * 60.0)
        );
        let sunday = Cron::parse("30 12 * * 7").expect("valid");
        let next = sunday.next_after(MONDAY).expect("some");
        assert_eq!(civil((next / 60.0) as i64), (2026, 11, 29, 12, 30, 0));
        let feb30 = Cron::parse("0 0 30 2 *").expect("parses");
        assert_eq!(feb30.next_after(MONDAY), None);
    }

    #[test]
    fn bad_expressions_say_why() {
        assert_eq!(
            Cron::parse("* * *").err().as_deref(),
            Some("a cron schedule has five fields (minute hour day month weekday), found 3")
        );
        assert_eq!(
            Cron::parse("60 * * * *").err().as_deref(),
            Some("the minute field must stay within 0-59, found `60`")
        );
        assert_eq!(
            Cron::parse("*/0 * * * *").err().as_deref(),
            Some("a step of 0 in the minute field")
        );
        assert_eq!(
            Cron::parse("x * * * *").err().as_deref(),
            Some("bad value `x` in the minute field")
        );
    }
}
