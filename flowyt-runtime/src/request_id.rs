//! Request ids: random version-4 UUIDs from a per-thread generator seeded once from the
//! operating system, so a request costs no system call for its id.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A seed from the operating system's randomness (one `getrandom` per thread).
fn seed() -> u64 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]) | 1
}

/// The next 64 random bits (SplitMix64: fast, and plenty for ids that only need to differ).
fn next() -> u64 {
    STATE.with(|state| {
        let z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(z);
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A new request id, formatted as a version-4 UUID.
pub(crate) fn generate() -> String {
    let (a, b) = (next(), next());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_v4_uuids_and_differ() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::generate()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 4);
        }
    }
}
