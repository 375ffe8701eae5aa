//! "Did you mean …?" for misspelled ids, action kinds, operators and names.

/// The candidate closest to `wanted`, if one is close enough to be a likely typo.
///
/// Closeness is the Damerau–Levenshtein distance, allowed to grow with the length of the
/// word (one edit for short ids like `4`, up to a third of the length for longer ones).
/// Ties keep the first candidate, so suggestions follow source order.
pub fn closest<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (wanted.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == wanted {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(wanted) {
            0
        } else {
            strsim::damerau_levenshtein(wanted, candidate)
        };
        // A one-letter id is one edit away from every other one-letter id: require the two
        // names to share something, or `C` would suggest `1`.
        let longest = wanted.chars().count().max(candidate.chars().count());
        if distance <= limit && distance < longest && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A `help:` line for an unknown name: the closest candidate, or the whole list when it is
/// short, or nothing.
pub fn help_for<'a, I>(wanted: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    if let Some(c) = closest(wanted, candidates.clone()) {
        return Some(format!("did you mean `{c}`?"));
    }
    let all: Vec<&str> = candidates.into_iter().filter(|c| *c != wanted).collect();
    match all.len() {
        0 => None,
        1..=8 => Some(format!(
            "expected one of: {}",
            all.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let ids = ["fetch_user", "respond", "4"];
        assert_eq!(closest("fetch_usr", ids), Some("fetch_user"));
        assert_eq!(closest("4a", ids), Some("4"));
        assert_eq!(closest("5", ids), None);
        assert_eq!(closest("completely_different", ids), None);
        assert_eq!(closest("Respond", ids), Some("respond"));
    }

    #[test]
    fn help_lists_few_candidates_when_none_is_close() {
        assert_eq!(
            help_for("zzz", ["a1", "b2"]).as_deref(),
            Some("expected one of: `a1`, `b2`")
        );
        assert_eq!(
            help_for("fetch_usr", ["fetch_user"]).as_deref(),
            Some("did you mean `fetch_user`?")
        );
    }
}
