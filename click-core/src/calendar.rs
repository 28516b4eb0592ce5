//! The Gregorian calendar, as Click's dates (`sign_time`, the Merchant API's payment dates) use it.

/// Whether `year-month-day` names a real day: months 1–12, and February 29 only in leap years.
///
/// ```
/// use click_core::calendar::is_valid_date;
///
/// assert!(is_valid_date(2024, 2, 29));
/// assert!(!is_valid_date(2023, 2, 29));
/// assert!(!is_valid_date(2024, 13, 1));
/// assert!(!is_valid_date(2024, 4, 31));
/// ```
pub fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}
