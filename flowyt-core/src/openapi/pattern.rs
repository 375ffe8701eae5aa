//! Cerberus `regex` patterns (Python `re.match` with `$` appended) as ECMA-262 `pattern`s.

/// A Cerberus pattern as an ECMA-262 `pattern`, or `None` when it uses syntax the two
/// dialects read differently. Cerberus appends `$` unless the pattern ends with one, then
/// matches at the start (`re.match`: the `$` binds to the last alternative only), and a `$`
/// (or `\Z`) also matches before a final newline: so each end anchor becomes `\n?$`, and
/// the whole is anchored at the start.
pub(super) fn ecma_pattern(re: &str) -> Option<String> {
    const END: &str = "\\n?$";
    let mut body = String::with_capacity(re.len() + 8);
    let mut chars = re.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                match next {
                    'Z' if !in_class => body.push_str(END),
                    'A' | 'z' | 'Z' | 'h' | 'H' | 'p' | 'P' | 'Q' | 'E' | 'K' | 'G' | 'x' | 'u'
                    | 'U' | 'a' | 'e' => return None,
                    other => {
                        body.push('\\');
                        body.push(other);
                    }
                }
            }
            '[' if in_class => return None,
            '[' => {
                in_class = true;
                body.push(c);
                if chars.peek() == Some(&'^') {
                    body.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    return None;
                }
            }
            ']' if in_class => {
                in_class = false;
                body.push(c);
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                chars.next();
                if chars.next() != Some(':') {
                    return None;
                }
                body.push_str("(?:");
            }
            '$' if !in_class => body.push_str(END),
            '{' if !in_class && chars.peek() == Some(&',') => return None,
            other => body.push(other),
        }
    }
    if in_class {
        return None;
    }
    if !re.ends_with('$') {
        body.push_str(END);
    }
    Some(format!("^(?:{body})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_anchored_or_refused() {
        let p = |re: &str| ecma_pattern(re);
        assert_eq!(p("[a-z]+").as_deref(), Some("^(?:[a-z]+\\n?$)"));
        // `re.match("a|b$", "abc")` matches: the appended `$` binds to `b` only.
        assert_eq!(p("a|b").as_deref(), Some("^(?:a|b\\n?$)"));
        assert_eq!(p("a$|b").as_deref(), Some("^(?:a\\n?$|b\\n?$)"));
        assert_eq!(p("x\\Z").as_deref(), Some("^(?:x\\n?$\\n?$)"));
        assert_eq!(
            p("a\\$").as_deref(),
            Some("^(?:a\\$)"),
            "ends with `$`: nothing appended"
        );
        assert_eq!(p("(?:ab)+\\d").as_deref(), Some("^(?:(?:ab)+\\d\\n?$)"));
        assert_eq!(p("[$]").as_deref(), Some("^(?:[$]\\n?$)"));
        for refused in [
            "(?i)abc",
            "\\Aabc",
            "[[:alpha:]]",
            "(?P<n>x)",
            "a{,3}",
            "[]a]",
        ] {
            assert_eq!(p(refused), None, "{refused}");
        }
    }
}
