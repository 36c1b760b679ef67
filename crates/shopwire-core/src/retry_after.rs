//! The one `Retry-After` parser (RFC 9110 §10.2.3): how long a server asks us to wait, from
//! either form of the header. Callers apply their own cap.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The wait a `Retry-After` value asks for at `now`: delay-seconds (`120`) or an HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`; the obsolete RFC 850 and asctime forms too, which a
/// recipient must accept). A date already past is no wait at all; anything else is `None`.
pub fn parse(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let at = http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP-date in any of its three forms.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    // IMF-fixdate is an RFC 2822 date with the zone spelled `GMT`.
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    // RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|at| at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn delay_seconds_are_read_as_they_are() {
        assert_eq!(parse("30", now()), secs(30));
        assert_eq!(parse(" 7 ", now()), secs(7));
        assert_eq!(parse("0", now()), secs(0));
        assert_eq!(parse("999999", now()), secs(999_999));
    }

    #[test]
    fn an_imf_fixdate_is_the_time_left_until_it() {
        assert_eq!(parse("Sun, 22 Nov 2026 10:01:00 GMT", now()), secs(60));
        assert_eq!(parse("Sun, 22 Nov 2026 11:00:00 GMT", now()), secs(3600));
    }

    #[test]
    fn the_obsolete_date_forms_are_accepted() {
        assert_eq!(parse("Sunday, 22-Nov-26 10:00:30 GMT", now()), secs(30));
        assert_eq!(parse("Sun Nov 22 10:00:45 2026", now()), secs(45));
        assert_eq!(parse("Sun Nov  1 10:00:00 2026", now()), secs(0));
    }

    #[test]
    fn a_date_in_the_past_means_no_wait() {
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT", now()), secs(0));
    }

    #[test]
    fn anything_else_is_not_a_retry_after() {
        for value in [
            "",
            " ",
            "soon",
            "-5",
            "+5",
            "1.5",
            "5s",
            "99999999999999999999999",
        ] {
            assert_eq!(parse(value, now()), None, "{value:?}");
        }
    }
}
