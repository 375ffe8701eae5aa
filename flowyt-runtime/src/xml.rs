//! The two rules every XML writer here follows: element and attribute names are checked, text
//! is escaped (markup characters as entities, control characters XML cannot carry dropped).

/// Whether `name` is a safe XML element or attribute name: a letter or `_`, then letters,
/// digits, `_`, `-` or `.`, and not starting with `xml` (reserved). Stricter than XML's own
/// rule, never looser.
pub(crate) fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

/// `text` escaped for a quoted attribute value (or element content).
#[cfg(feature = "registry")]
pub(crate) fn escape(text: &str) -> String {
    escape_with(text, true)
}

/// `text` escaped for element content, as Python's `xml.sax.saxutils.escape` does (quotes
/// kept as they are).
pub(crate) fn escape_text(text: &str) -> String {
    escape_with(text, false)
}

fn escape_with(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
