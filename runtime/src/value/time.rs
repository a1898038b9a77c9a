//! Timestamps as LangChain and LangGraph show them, written without `fmt`
//! (a checkpoint has one, so it is on a graph step's path).

/// `t` as RFC 3339 with microseconds, UTC: `2026-12-07T18:33:42.123456Z`.
/// Written digit by digit into a buffer of its size: every checkpoint has
/// one, and going through `fmt` cost a checkpoint more than its id.
/// Times before 1970 or after 9999 are clamped to those years' bounds.
pub(crate) fn rfc3339_micros(t: std::time::SystemTime) -> String {
    const MAX: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let since = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let (secs, micros) = match since.as_secs() {
        s if s > MAX => (MAX, 999_999),
        s => (s, since.subsec_micros()),
    };
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, rem / 3600);
    put(14, 2, rem / 60 % 60);
    put(17, 2, rem % 60);
    put(20, 6, u64::from(micros));
    std::str::from_utf8(&b).map(str::to_owned).unwrap_or_default()
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    #[test]
    fn timestamps_read_as_humantime_writes_them() {
        // Leap days, the ends of months and years, 2000 and 2100 (a leap
        // year and not), microsecond digits with leading zeros.
        let secs = [
            0u64,
            59,
            86_399,
            951_782_400,   // 2000-02-29
            951_868_799,   // 2000-02-29T23:59:59
            978_307_199,   // 2000-12-31T23:59:59
            1_709_164_800, // 2024-02-29
            1_796_601_600, // 2026-12-07
            4_107_542_400, // 2100-03-01
            4_102_444_799, // 2099-12-31T23:59:59
            253_402_300_799,
        ];
        for s in secs {
            for micros in [0u32, 7, 123_456, 999_999] {
                let t = UNIX_EPOCH + Duration::new(s, micros * 1000 + 999);
                assert_eq!(
                    super::rfc3339_micros(t),
                    humantime::format_rfc3339_micros(t).to_string(),
                    "{s}.{micros}"
                );
            }
        }
        let mut t = UNIX_EPOCH;
        while t < UNIX_EPOCH + Duration::from_secs(253_402_300_799) {
            assert_eq!(
                super::rfc3339_micros(t),
                humantime::format_rfc3339_micros(t).to_string()
            );
            t += Duration::from_secs(86_400 * 37 + 3_607);
        }
        assert_eq!(
            super::rfc3339_micros(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00.000000Z"
        );
        let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
        assert_eq!(super::rfc3339_micros(far), "9999-12-31T23:59:59.999999Z");
        let now = SystemTime::now();
        assert_eq!(
            super::rfc3339_micros(now),
            humantime::format_rfc3339_micros(now).to_string()
        );
    }
}
