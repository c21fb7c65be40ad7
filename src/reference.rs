//! Content-ID references: the table of ids defined so far, and `$id` references in request targets.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Content-IDs defined so far, for request validation: one arena and one open-addressing table (linear probing,
/// at most half full), so recording an id allocates nothing beyond amortised growth and hashes it once.
#[derive(Debug, Default)]
pub(crate) struct ContentIds {
    /// Random per table, so that nobody can choose ids that collide.
    seed: Seed,
    arena: Vec<u8>,
    pub(crate) ranges: Vec<(u32, u32)>,
    /// The table: for each id, the index of its latest definition. Length zero or a power of two.
    slots: Vec<Slot>,
    /// Occupied slots.
    occupied: usize,
    /// Ids that are small decimal numbers written canonically (`0` to `4095`, no leading zero), as nearly
    /// every client numbers them: the latest definition by number (index plus one, zero for none). No hash,
    /// no comparison.
    numbered: Vec<u32>,
    pub(crate) changeset_start: usize,
    /// Ids and id bytes announced by [`reserve`](Self::reserve): the hashed table and the arena are sized for
    /// them when the first id that is not a small number arrives (most batches number every id, and then
    /// neither is ever allocated).
    expected: (usize, usize),
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// The id's hash: compared before the bytes, and kept so that growing the table hashes nothing again.
    hash: u64,
    /// Index into `ranges` plus one; zero when the slot is free.
    index: u32,
}

/// A per-table random seed for [`Seed::hash`].
#[derive(Debug)]
struct Seed(u64);

impl Default for Seed {
    fn default() -> Self {
        Self(RandomState::new().hash_one(0x5eed_u64) | 1)
    }
}

impl Seed {
    /// A seeded multiply-xor hash, word by word. It replaced SipHash, which cost about 250 instructions per id
    /// in the encode bench; a collision costs one more probe and a byte comparison, never a wrong answer.
    #[inline]
    fn hash(&self, id: &[u8]) -> u64 {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut h = self.0 ^ (id.len() as u64).wrapping_mul(K);
        for word in id.chunks(8) {
            let mut w = [0u8; 8];
            w[..word.len()].copy_from_slice(word);
            h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
        }
        (h ^ (h >> 32)).wrapping_mul(K)
    }
}

/// Where an id lives in one table, from [`ContentIds::key`]: computed once, used to look up and to insert.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdKey {
    /// A canonical decimal number below [`NUMBERED_IDS`].
    Number(u32),
    /// Any other id: its hash.
    Hashed(u64),
}

/// Ids `0` to `NUMBERED_IDS - 1` are kept by number (at most 16 KiB of table).
const NUMBERED_IDS: usize = 4096;

/// The number a canonical decimal id stands for, when it is below [`NUMBERED_IDS`].
#[inline(always)]
fn small_number(id: &[u8]) -> Option<u32> {
    if id.is_empty() || id.len() > 4 || (id[0] == b'0' && id.len() > 1) {
        return None;
    }
    let mut n = 0u32;
    for &d in id {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u32::from(digit);
    }
    ((n as usize) < NUMBERED_IDS).then_some(n)
}

/// The number of a canonical decimal Content-ID below [`NUMBERED_IDS`] that `target` refers to (`$n` or
/// `/$n` as its first segment): the common case of [`content_id_reference`] and [`ContentIds::key`] in one
/// pass. `None` says nothing: the target may still refer to another id.
#[inline]
pub(crate) fn numbered_reference(target: &[u8]) -> Option<u32> {
    let t = target.strip_prefix(b"/").unwrap_or(target);
    let t = t.strip_prefix(b"$")?;
    let (mut n, mut digits) = (0u32, 0);
    for &b in t.iter().take(5) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        n = n * 10 + u32::from(digit);
        digits += 1;
    }
    let ends = matches!(t.get(digits), None | Some(b'/' | b'?' | b'(' | b'#'));
    let canonical = digits == 1 || (digits > 1 && t[0] != b'0');
    (ends && canonical && (n as usize) < NUMBERED_IDS).then_some(n)
}

/// The first slot to probe for a hash: its well-mixed high half.
fn home(hash: u64, mask: usize) -> usize {
    (hash >> 32) as usize & mask
}

/// Byte equality without a library call for the short ids nearly every batch uses.
#[inline]
fn same_id(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 8 {
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w[..s.len()].copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        return word(a) == word(b);
    }
    a == b
}

impl ContentIds {
    /// Room for `count` ids of `bytes` bytes in all: recording them allocates nothing more, except the hashed
    /// table and the arena, once each, sized for all of them, when the first id that is not a small number
    /// arrives.
    pub(crate) fn reserve(&mut self, count: usize, bytes: usize) {
        self.ranges.reserve(count);
        self.expected = (count, bytes);
        let numbered = (count + 1).next_power_of_two().clamp(64, NUMBERED_IDS);
        if numbered > self.numbered.len() {
            self.numbered.resize(numbered, 0);
        }
    }

    #[inline]
    pub(crate) fn key(&self, id: &[u8]) -> IdKey {
        match small_number(id) {
            Some(n) => IdKey::Number(n),
            None => IdKey::Hashed(self.seed.hash(id)),
        }
    }

    /// The index of the latest definition of `id`, whose key is `key`.
    #[inline]
    pub(crate) fn find(&self, id: &[u8], key: IdKey) -> Option<usize> {
        let hash = match key {
            IdKey::Number(n) => {
                return match self.numbered.get(n as usize) {
                    Some(&index) if index != 0 => Some(index as usize - 1),
                    _ => None,
                }
            }
            IdKey::Hashed(h) => h,
        };
        self.find_hashed(id, hash)
    }

    fn find_hashed(&self, id: &[u8], hash: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = home(hash, mask);
        loop {
            let slot = self.slots[i];
            if slot.index == 0 {
                return None;
            }
            let index = slot.index as usize - 1;
            if slot.hash == hash && same_id(self.id(index), id) {
                return Some(index);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: &[u8]) -> Option<usize> {
        self.find(id, self.key(id))
    }

    /// Whether the id that `target` refers to (see [`content_id_reference`]) is defined; `true` when the target
    /// refers to none.
    #[inline]
    pub(crate) fn reference_defined(&self, target: &[u8]) -> bool {
        match numbered_reference(target) {
            Some(n) => self.find(&[], IdKey::Number(n)).is_some(),
            None => match content_id_reference(target) {
                Some(id) => self.get(id).is_some(),
                None => true,
            },
        }
    }

    /// The bytes of definition `i` of a hashed id (numbered ids keep none).
    fn id(&self, i: usize) -> &[u8] {
        let (s, e) = self.ranges[i];
        &self.arena[s as usize..e as usize]
    }

    #[cfg(any(test, feature = "json"))]
    pub(crate) fn insert(&mut self, id: &[u8]) {
        self.insert_keyed(id, self.key(id));
    }

    /// Records a definition of `id` (whose key is `key`); a later definition of the same id replaces the
    /// earlier one in lookups.
    #[inline(always)]
    pub(crate) fn insert_keyed(&mut self, id: &[u8], key: IdKey) {
        match key {
            IdKey::Number(n) if (n as usize) < self.numbered.len() => {
                let start = self.arena.len() as u32;
                let index = self.ranges.len();
                self.ranges.push((start, start));
                self.numbered[n as usize] = index as u32 + 1;
            }
            _ => self.insert_slow(id, key),
        }
    }

    fn insert_slow(&mut self, id: &[u8], key: IdKey) {
        let start = self.arena.len() as u32;
        // A numbered id is its number: its bytes are not kept (its range is empty).
        if let IdKey::Hashed(_) = key {
            if self.arena.capacity() == 0 {
                self.arena.reserve(self.expected.1.max(id.len()));
            }
            self.arena.extend_from_slice(id);
        }
        let index = self.ranges.len();
        self.ranges.push((start, self.arena.len() as u32));
        match key {
            IdKey::Number(n) => {
                let n = n as usize;
                if n >= self.numbered.len() {
                    self.numbered
                        .resize((n + 1).next_power_of_two().clamp(64, NUMBERED_IDS), 0);
                }
                self.numbered[n] = index as u32 + 1;
            }
            IdKey::Hashed(hash) => {
                if (self.occupied + 1) * 2 > self.slots.len() {
                    let (count, _) = std::mem::take(&mut self.expected);
                    let reserved = (self.occupied + count).saturating_mul(2).next_power_of_two();
                    self.rebuild(reserved.max(self.slots.len() * 2).max(16));
                }
                self.place(index, hash);
            }
        }
    }

    /// Puts definition `index` in the table, over an earlier definition of the same id.
    fn place(&mut self, index: usize, hash: u64) {
        let mask = self.slots.len() - 1;
        let mut i = home(hash, mask);
        loop {
            let slot = self.slots[i];
            if slot.index == 0 {
                self.occupied += 1;
                break;
            }
            if slot.hash == hash && same_id(self.id(slot.index as usize - 1), self.id(index)) {
                break;
            }
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot {
            hash,
            index: index as u32 + 1,
        };
    }

    /// Moves every entry into a table of `len` slots (a power of two).
    fn rebuild(&mut self, len: usize) {
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); len]);
        self.occupied = 0;
        let mask = len - 1;
        for slot in old.into_iter().filter(|s| s.index != 0) {
            // The entries are distinct ids: each goes to the first free slot from its home.
            let mut i = home(slot.hash, mask);
            while self.slots[i].index != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
            self.occupied += 1;
        }
    }

    /// Whether the latest definition of `id` (key `key`) is in the current changeset.
    pub(crate) fn defined_in_changeset(&self, id: &[u8], key: IdKey) -> bool {
        self.find(id, key).is_some_and(|i| i >= self.changeset_start)
    }
}

/// Names after `$` at the start of a target that are system resources, not Content-ID references.
const SYSTEM_RESOURCES: [&[u8]; 7] = [b"metadata", b"batch", b"crossjoin", b"all", b"entity", b"root", b"id"];

/// The Content-ID a request target refers to: `$id` or `/$id` as its first segment.
pub(crate) fn content_id_reference(target: &[u8]) -> Option<&[u8]> {
    let t = target.strip_prefix(b"/").unwrap_or(target);
    let t = t.strip_prefix(b"$")?;
    let end = t
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'(' | b'#'))
        .unwrap_or(t.len());
    let id = &t[..end];
    // System resources are names: an id that starts with a digit (nearly all) needs no comparison.
    if id.is_empty() || (!id[0].is_ascii_digit() && SYSTEM_RESOURCES.iter().any(|s| s.eq_ignore_ascii_case(id))) {
        return None;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(content_id_reference(b"$1"), Some(&b"1"[..]));
        assert_eq!(content_id_reference(b"$10/Orders"), Some(&b"10"[..]));
        assert_eq!(content_id_reference(b"/$new?$select=a"), Some(&b"new"[..]));
        assert_eq!(content_id_reference(b"$metadata"), None);
        assert_eq!(content_id_reference(b"$crossjoin(A,B)"), None);
        assert_eq!(content_id_reference(b"$Batch"), None);
        assert_eq!(content_id_reference(b"People"), None);
        assert_eq!(content_id_reference(b"$"), None);
    }

    #[test]
    fn numbered_references_agree_with_the_general_path() {
        let ids = ContentIds::default();
        let mut targets: Vec<String> = [
            "$", "$/", "$x", "$0", "$00", "$01", "$4095", "$4096", "$9999", "$12345", "$7x",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        for n in (0..5000).step_by(7) {
            for end in ["", "/Orders", "?$select=a", "(1)", "#frag", "x", "-", ".", "0"] {
                targets.push(format!("${n}{end}"));
                targets.push(format!("/${n}{end}"));
            }
        }
        for target in &targets {
            let general = content_id_reference(target.as_bytes()).and_then(|id| match ids.key(id) {
                IdKey::Number(n) => Some(n),
                IdKey::Hashed(_) => None,
            });
            assert_eq!(numbered_reference(target.as_bytes()), general, "{target}");
        }
    }

    #[test]
    fn content_id_table_grows_and_keeps_the_latest_definition() {
        let mut ids = ContentIds::default();
        let names: Vec<String> = (0..5000).map(|i| format!("id{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(ids.get(name.as_bytes()), None);
            ids.insert(name.as_bytes());
            assert_eq!(ids.get(name.as_bytes()), Some(i));
        }
        for (i, name) in names.iter().enumerate() {
            assert_eq!(ids.get(name.as_bytes()), Some(i), "{name}");
        }
        ids.insert(b"id7");
        assert_eq!(ids.get(b"id7"), Some(5000));
        assert_eq!(ids.get(b"id5000"), None);
        assert_eq!(ids.get(b"a-much-longer-content-id-than-eight-bytes"), None);
        // Numbered ids never allocate the hashed table; other ids find it sized for everything announced.
        let mut reserved = ContentIds::default();
        reserved.reserve(200, 800);
        for i in 0..100 {
            reserved.insert(format!("{i}").as_bytes());
        }
        assert!(reserved.slots.is_empty() && reserved.arena.capacity() == 0);
        reserved.insert(b"id0");
        let (slots, arena) = (reserved.slots.len(), reserved.arena.capacity());
        assert!(slots >= 400 && arena >= 800, "{slots} slots, {arena} bytes");
        for i in 1..100 {
            reserved.insert(format!("id{i}").as_bytes());
        }
        assert_eq!(
            (reserved.slots.len(), reserved.arena.capacity()),
            (slots, arena),
            "reserve made room for every id"
        );
        for i in 0..100 {
            assert_eq!(reserved.get(format!("{i}").as_bytes()), Some(i));
            assert_eq!(reserved.get(format!("id{i}").as_bytes()), Some(100 + i));
        }
    }

    #[test]
    fn content_ids_track_changesets() {
        let mut ids = ContentIds::default();
        ids.insert(b"1");
        ids.changeset_start = ids.ranges.len();
        assert!(!ids.defined_in_changeset(b"1", ids.key(b"1")));
        ids.insert(b"1");
        assert!(ids.defined_in_changeset(b"1", ids.key(b"1")));
        assert!(ids.get(b"2").is_none());
    }
}

/// Where each Content-ID of a response batch points: the `OData-EntityId` its response returned, else its
/// `Location`. Resolves `$n`-prefixed URLs against it.
///
/// # Example
///
/// ```
/// use odata_batch::BatchResponse;
///
/// let body = "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
///     HTTP/1.1 204 No Content\r\nOData-EntityId: https://org/api/data/v9.2/accounts(7)\r\n\r\n\r\n--b--\r\n";
/// let batch = BatchResponse::decode("multipart/mixed; boundary=b", body).unwrap();
/// let ids = batch.content_id_map();
/// assert_eq!(ids.get("1"), Some("https://org/api/data/v9.2/accounts(7)"));
/// assert_eq!(ids.resolve("$1/contact_customer_accounts").as_deref(), Some("https://org/api/data/v9.2/accounts(7)/contact_customer_accounts"));
/// assert_eq!(ids.resolve("accounts"), None); // not a reference
/// assert_eq!(ids.resolve("$2"), None); // unknown id
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentIdMap {
    entries: Vec<(String, String)>,
    /// Entry index by Content-ID (the last entry with that id, as the server answered it last): one hash
    /// lookup per `get`, so resolving every id of a batch is linear.
    index: std::collections::HashMap<String, usize>,
}

impl ContentIdMap {
    fn new(entries: Vec<(String, String)>) -> Self {
        let index = entries.iter().enumerate().map(|(i, (id, _))| (id.clone(), i)).collect();
        Self { entries, index }
    }

    /// The URL the operation with this Content-ID created or addressed (the last one, when a Content-ID
    /// appears in several changesets).
    pub fn get(&self, content_id: &str) -> Option<&str> {
        self.index.get(content_id).map(|&i| self.entries[i].1.as_str())
    }

    /// Replaces a leading `$id` (or `/$id`) reference with the URL it stands for. `None` when `url` is not a
    /// reference or the id is unknown.
    pub fn resolve(&self, url: &str) -> Option<String> {
        let id = content_id_reference(url.as_bytes())?;
        let id = std::str::from_utf8(id).ok()?;
        let base = self.get(id)?;
        let skip = url.find('$')? + 1 + id.len();
        Some(format!("{base}{}", &url[skip..]))
    }

    /// The (Content-ID, URL) pairs in response order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }
}

impl crate::model::BatchResponse {
    /// Maps each Content-ID to the `OData-EntityId` (else `Location`) its response returned.
    pub fn content_id_map(&self) -> ContentIdMap {
        let entries = self
            .items
            .iter()
            .filter_map(|item| {
                let id = item.content_id.clone()?;
                let url = item
                    .headers
                    .get("odata-entityid")
                    .or_else(|| item.headers.get(http::header::LOCATION))?;
                Some((id, crate::model::text(url.as_bytes())))
            })
            .collect();
        ContentIdMap::new(entries)
    }
}
