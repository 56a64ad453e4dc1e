//! Deterministic `transactionId`s for remote creates (design decision 4).
//!
//! Graph refuses a second create with a `transactionId` it has already seen, and the id comes back
//! on the event, so a create retried after a lost response or a crash cannot duplicate the event,
//! and the planner can link the event it finds instead of creating it again. The id must therefore
//! depend only on inputs that survive a crash: the link's salt, the local id, and, for a re-create
//! after the remote copy was deleted, the id of that deleted copy (so a re-create never reuses the
//! original create's id).

/// Derives the `transactionId` for creating `local_id` in the mailbox identified by `salt`.
///
/// `replaced_remote_id` is the remote id of the deleted copy for a re-create, `None` for a first
/// create. The result is GUID-shaped (Graph's own examples use GUIDs). It is a 128-bit FNV-1a
/// digest over length-prefixed inputs: unique enough for one mailbox, stable across releases,
/// and not a secret (it names nothing the salt does not already identify).
pub fn transaction_id(salt: &str, local_id: &str, replaced_remote_id: Option<&str>) -> String {
    let mut hash = Fnv128::new();
    hash.field(b"outlook-sync/transaction-id/v1");
    hash.field(salt.as_bytes());
    hash.field(local_id.as_bytes());
    match replaced_remote_id {
        None => hash.field(b"create"),
        Some(remote_id) => {
            hash.field(b"re-create");
            hash.field(remote_id.as_bytes());
        }
    }
    // Shape it as an RFC 9562 version 8 ("custom") UUID so it reads as what it is.
    let mut bits = hash.finish();
    bits = (bits & !(0xF << 76)) | (0x8 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u128::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_guid_shaped() {
        let a = transaction_id("db/1", "42", None);
        assert_eq!(a, transaction_id("db/1", "42", None));
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'), "version nibble: {a}");
        assert!(
            matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
            "variant: {a}"
        );
    }

    #[test]
    fn every_input_matters() {
        let base = transaction_id("db/1", "42", None);
        assert_ne!(base, transaction_id("db/2", "42", None));
        assert_ne!(base, transaction_id("db/1", "43", None));
        assert_ne!(base, transaction_id("db/1", "42", Some("AAMk")));
        assert_ne!(
            transaction_id("db/1", "42", Some("AAMk")),
            transaction_id("db/1", "42", Some("AAMl"))
        );
        // Field boundaries are not ambiguous.
        assert_ne!(
            transaction_id("ab", "c", None),
            transaction_id("a", "bc", None)
        );
    }

    #[test]
    fn is_stable_across_releases() {
        // Changing the derivation would duplicate every create pending at upgrade time. The vector
        // was cross-checked against an independent FNV-1a-128 implementation (Python).
        assert_eq!(
            transaction_id("salt", "1", None),
            "aaabed66-a2f6-8eb2-907b-c602d976dd93"
        );
    }
}
