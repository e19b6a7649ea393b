//! Calendar dates for the review pages, in UTC: `YYYY-MM-DD` from the filter form to Unix ms
//! and back, and a call's start shown as `YYYY-MM-DD HH:MM:SS`. The proleptic Gregorian
//! calendar by day counts (no time-zone database: the store keeps Unix ms, pages say UTC).

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix ms of the start (00:00 UTC) of `YYYY-MM-DD`; None when it is not such a date.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // 2026-02-31 and the like: the day must survive the round trip.
    (civil_from_days(days) == (year, month, day)).then_some(days * DAY_MS)
}

/// `YYYY-MM-DD` of a Unix ms time.
pub fn date_of(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix ms time.
pub fn date_time_of(ms: i64) -> String {
    let seconds = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        date_of(ms),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The Monday (00:00 UTC) of the week holding `ms`.
pub fn week_start_ms(ms: i64) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
    (days - (days + 3).rem_euclid(7)) * DAY_MS
}

/// `m:ss` of a duration in ms.
pub fn minutes_seconds(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_dates_are_refused() {
        assert_eq!(day_start_ms("1970-01-01"), Some(0));
        assert_eq!(day_start_ms("2026-12-04"), Some(1_796_342_400_000));
        assert_eq!(date_of(1_796_342_400_000 + 5), "2026-12-04");
        assert_eq!(
            date_time_of(1_796_342_400_000 + 3_723_000),
            "2026-12-04 01:02:03"
        );
        assert_eq!(
            day_start_ms("2024-02-29").map(date_of).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "x",
            "",
            "2026-1",
            "2026-01-01T00",
        ] {
            assert_eq!(day_start_ms(bad), None, "{bad}");
        }
        // 2026-11-30 was a Monday.
        assert_eq!(
            week_start_ms(1_796_342_400_000),
            1_796_342_400_000 - 4 * DAY_MS
        );
        assert_eq!(minutes_seconds(61_999), "1:01");
    }
}
