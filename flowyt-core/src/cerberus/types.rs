//! The `type` rule family: Cerberus' type names and which JSON values match them, dates included.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum TypeName {
    Binary,
    Boolean,
    Container,
    Date,
    Datetime,
    Dict,
    Float,
    Integer,
    List,
    Number,
    Set,
    String,
}

pub(super) const TYPE_NAMES: [(&str, TypeName); 12] = [
    ("binary", TypeName::Binary),
    ("boolean", TypeName::Boolean),
    ("container", TypeName::Container),
    ("date", TypeName::Date),
    ("datetime", TypeName::Datetime),
    ("dict", TypeName::Dict),
    ("float", TypeName::Float),
    ("integer", TypeName::Integer),
    ("list", TypeName::List),
    ("number", TypeName::Number),
    ("set", TypeName::Set),
    ("string", TypeName::String),
];

impl TypeName {
    pub(super) fn matches(self, value: &Value) -> bool {
        match self {
            TypeName::Binary | TypeName::Set => false,
            TypeName::Boolean => value.is_boolean(),
            TypeName::Container => value.is_array() || value.is_object(),
            TypeName::Date => value
                .as_str()
                .is_some_and(|s| is_iso_date(s) || is_iso_datetime(s)),
            TypeName::Datetime => value.as_str().is_some_and(is_iso_datetime),
            TypeName::Dict => value.is_object(),
            TypeName::Float | TypeName::Number => value.is_number(),
            TypeName::Integer => value.is_i64() || value.is_u64(),
            TypeName::List => value.is_array(),
            TypeName::String => value.is_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD`, a real calendar day (year 1 to 9999, as Python's `date`).
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// `YYYY-MM-DD(T|t| )HH:MM[:SS[.fraction]][Z|z|±HH:MM]`.
fn is_iso_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || !s.is_char_boundary(10) || !is_iso_date(&s[..10]) {
        return false;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let mut rest = &b[11..];
    let two = |x: &[u8], max: u32| x.len() >= 2 && digits(&x[..2]).is_some_and(|v| v <= max);
    if !(two(rest, 23) && rest.get(2) == Some(&b':') && two(&rest[3..], 59)) {
        return false;
    }
    rest = &rest[5..];
    if rest.first() == Some(&b':') {
        if !two(&rest[1..], 59) {
            return false;
        }
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&n) {
                return false;
            }
            rest = &rest[1 + n..];
        }
    }
    match rest {
        [] | [b'Z'] | [b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => two(&[*h1, *h2], 23) && two(&[*m1, *m2], 59),
        _ => false,
    }
}
