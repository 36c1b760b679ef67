//! Ages on the command line — `30d`, `12h`, `90m`, `45s`, `2w` — shared by
//! `dlq purge --older-than`, `events replay --since` and `inbox purge --processed-older-than`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A positive whole number of seconds, minutes, hours, days or weeks, kept as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    amount: u64,
    unit: char,
}

impl Age {
    /// The length of time.
    pub fn duration(self) -> Duration {
        let unit_secs = match self.unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => 604_800,
        };
        Duration::from_secs(self.amount * unit_secs)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit)
    }
}

/// Why an age did not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an age: expected a positive number and a unit s, m, h, d or w (30d, 12h, 90m)"
)]
pub struct BadAge(String);

/// The largest amount accepted: 100 years in seconds, so no unit overflows.
const MAX_AMOUNT: u64 = 100 * 365 * 86_400;

impl FromStr for Age {
    type Err = BadAge;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAge(s.to_owned());
        let unit = s.chars().last().ok_or_else(bad)?;
        if !matches!(unit, 's' | 'm' | 'h' | 'd' | 'w') {
            return Err(bad());
        }
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let amount: u64 = digits.parse().map_err(|_| bad())?;
        if amount == 0 || amount > MAX_AMOUNT {
            return Err(bad());
        }
        let age = Age { amount, unit };
        if age.duration().as_secs() > MAX_AMOUNT {
            return Err(bad());
        }
        Ok(age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> u64 {
        s.parse::<Age>().expect("parses").duration().as_secs()
    }

    #[test]
    fn ages_in_every_unit_parse_to_their_length() {
        assert_eq!(secs("30d"), 30 * 86_400);
        assert_eq!(secs("12h"), 12 * 3_600);
        assert_eq!(secs("2h"), 7_200);
        assert_eq!(secs("90m"), 5_400);
        assert_eq!(secs("45s"), 45);
        assert_eq!(secs("2w"), 14 * 86_400);
    }

    #[test]
    fn ages_print_as_written() {
        assert_eq!("90m".parse::<Age>().expect("parses").to_string(), "90m");
    }

    #[test]
    fn zero_negative_unitless_and_huge_ages_are_refused() {
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "1.5h",
            "10",
            "3y",
            "1 d",
            "99999999999999999999d",
            "6000w",
        ] {
            assert!(bad.parse::<Age>().is_err(), "{bad:?} should not parse");
        }
        let err = "3y".parse::<Age>().expect_err("no years");
        assert!(err.to_string().contains("3y"));
    }
}
