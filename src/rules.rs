//! The OData request rules, each in one place: every reader and writer (the decoder, the encoder, the model's
//! conversions, splitting, the JSON reader and writer) calls these functions and reports a broken rule as the
//! same [`Rule`].
//!
//! | rule | owner |
//! | --- | --- |
//! | `GET`/`HEAD` not in a changeset | [`RequestRules::check`] |
//! | Content-IDs unique within their [`ContentIdScope`] | [`RequestRules::check`] |
//! | `$id` references only to ids defined earlier | [`RequestRules::check`], with [`content_id_reference`] |
//! | members of a changeset adjacent | [`Adjacency`] (and [`changeset_runs`] over a whole list) |
//! | `dependsOn` and `if` expressible in multipart | [`MultipartDependencies`] |
//!
//! The rules work on borrowed bytes and indexes: they know no model type, no framing and no JSON.

use std::fmt;
use std::ops::Range;

/// An OData rule that a batch broke. Decoding, encoding, splitting and the JSON format report it alike
/// (`DecodeErrorKind::Rule`, `EncodeErrorKind::Rule`, `SplitError::Rule`, `JsonErrorKind::Rule`).
///
/// # Example
///
/// ```
/// use odata_batch::{BatchRequest, DecodeErrorKind, Rule};
///
/// let body = "--b\r\nContent-Type: application/http\r\n\r\nGET $1/Orders HTTP/1.1\r\n\r\n\r\n--b--\r\n";
/// let err = BatchRequest::decode("multipart/mixed; boundary=b", body).unwrap_err();
/// assert_eq!(err.decode_error().unwrap().kind(), DecodeErrorKind::Rule(Rule::UnknownContentIdReference));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `GET` or `HEAD` (in any case) inside a changeset: a changeset holds changes only.
    MethodNotAllowedInChangeset,
    /// A Content-ID defined twice within its [`ContentIdScope`] (the JSON format: twice in the batch).
    DuplicateContentId,
    /// A `$id` reference (first segment of a request target) to a Content-ID that no earlier request defines:
    /// unknown, or defined later (servers answer 400).
    UnknownContentIdReference,
    /// The members of one changeset (JSON: atomicity group) are not adjacent.
    ChangesetNotAdjacent,
    /// A `dependsOn` entry that multipart cannot honour: it names no earlier request or changeset, or, with
    /// continue-on-error asked for, an item outside the request's own changeset (multipart then runs the
    /// request even when what it depends on failed).
    DependencyNotExpressible,
    /// A request with an `if` condition (JSON batch format only): multipart cannot carry it.
    ConditionNotExpressible,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MethodNotAllowedInChangeset => "GET or HEAD inside a changeset",
            Self::DuplicateContentId => "Content-ID defined twice",
            Self::UnknownContentIdReference => "reference to a Content-ID that no earlier request defines",
            Self::ChangesetNotAdjacent => "members of one changeset are not adjacent",
            Self::DependencyNotExpressible => "a dependsOn entry cannot be expressed in a multipart batch",
            Self::ConditionNotExpressible => "an `if` condition cannot be written in a multipart batch",
        })
    }
}

/// Where a Content-ID must be unique, and so which earlier definition a `$id` reference finds.
///
/// OData 4.0 (§11.7.7.2 of part 1, multipart) asks for ids unique within a changeset; OData 4.01 and its JSON
/// batch format ask for ids unique within the whole batch. The default is the 4.0 rule, which every server
/// named in the crate docs speaks and which admits the batches 4.0 clients send;
/// [`for_version`](Self::for_version) picks the one a version requires. A reference always finds the latest
/// earlier definition.
///
/// # Example
///
/// ```
/// use odata_batch::ContentIdScope;
///
/// assert_eq!(ContentIdScope::default(), ContentIdScope::Changeset);
/// assert_eq!(ContentIdScope::for_version("4.0"), ContentIdScope::Changeset);
/// assert_eq!(ContentIdScope::for_version("4.01"), ContentIdScope::Batch);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContentIdScope {
    /// Unique within one changeset (OData 4.0); ids outside changesets are not compared.
    #[default]
    Changeset,
    /// Unique within the batch (OData 4.01, and always in the JSON format).
    Batch,
}

impl ContentIdScope {
    /// The scope an `OData-Version` requires: [`Batch`](Self::Batch) from 4.01 on, else
    /// [`Changeset`](Self::Changeset).
    pub fn for_version(version: &str) -> Self {
        let version = version.trim();
        let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
        match (major.parse::<u32>(), minor.parse::<u32>()) {
            (Ok(major), Ok(minor)) if (major, minor) >= (4, 1) => Self::Batch,
            _ => Self::Changeset,
        }
    }
}

/// Which piece of a request broke a rule of [`RequestRules::check`], so that a reader can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Culprit {
    Method,
    Target,
    ContentId,
}

/// The request rules of one batch, request by request: GET in a changeset, duplicate Content-IDs (in the
/// configured scope) and references to ids not defined earlier. The decoder, the encoder and the JSON reader
/// each keep one.
#[derive(Debug, Default)]
pub(crate) struct RequestRules {
    ids: ContentIds,
    scope: ContentIdScope,
    /// The first definition of the open changeset.
    changeset_start: usize,
    in_changeset: bool,
}

impl RequestRules {
    pub(crate) fn new(scope: ContentIdScope) -> Self {
        Self {
            scope,
            ..Self::default()
        }
    }

    /// Room for `count` Content-IDs of `bytes` bytes in all.
    pub(crate) fn reserve(&mut self, count: usize, bytes: usize) {
        self.ids.reserve(count, bytes);
    }

    pub(crate) fn begin_changeset(&mut self) {
        self.in_changeset = true;
        self.changeset_start = self.ids.len();
    }

    pub(crate) fn end_changeset(&mut self) {
        self.in_changeset = false;
    }

    /// Checks one request (method, target, Content-ID); on success returns the id's table key for
    /// [`record`](Self::record), which the caller calls once the request is accepted.
    #[inline(always)]
    pub(crate) fn check(
        &self,
        method: &[u8],
        target: &[u8],
        content_id: Option<&[u8]>,
    ) -> Result<Option<IdKey>, (Rule, Culprit)> {
        if self.in_changeset && crate::grammar::is_get_or_head(method) {
            return Err((Rule::MethodNotAllowedInChangeset, Culprit::Method));
        }
        if !self.ids.reference_defined(target) {
            return Err((Rule::UnknownContentIdReference, Culprit::Target));
        }
        match content_id {
            None => Ok(None),
            Some(id) => match self.check_content_id(id) {
                Ok(key) => Ok(Some(key)),
                Err(rule) => Err((rule, Culprit::ContentId)),
            },
        }
    }

    /// Checks that defining `id` now repeats no id within the scope; returns its table key for
    /// [`record`](Self::record).
    #[inline(always)]
    pub(crate) fn check_content_id(&self, id: &[u8]) -> Result<IdKey, Rule> {
        let key = self.ids.key(id);
        if self.is_duplicate(id, key) {
            return Err(Rule::DuplicateContentId);
        }
        Ok(key)
    }

    /// Whether defining `id` now would repeat an id within the scope.
    #[inline(always)]
    fn is_duplicate(&self, id: &[u8], key: IdKey) -> bool {
        match (self.scope, self.ids.find(id, key)) {
            (_, None) => false,
            (ContentIdScope::Batch, Some(_)) => true,
            (ContentIdScope::Changeset, Some(i)) => self.in_changeset && i >= self.changeset_start,
        }
    }

    /// Records the definition of `id` (key from [`check`](Self::check)).
    #[inline(always)]
    pub(crate) fn record(&mut self, id: &[u8], key: IdKey) {
        self.ids.insert_keyed(id, key);
    }

    /// Records a definition of `id` (checked by the caller).
    #[cfg(feature = "json")]
    pub(crate) fn define(&mut self, id: &[u8]) {
        self.ids.insert(id);
    }

    /// The index of the latest earlier definition of `id` (definitions counted from zero in order).
    #[cfg(feature = "json")]
    pub(crate) fn defined(&self, id: &[u8]) -> Option<usize> {
        self.ids.get(id)
    }
}

/// Checks that the members of each changeset come one after another: feed each item's changeset (`None`
/// outside changesets) in order. Changesets are told apart by any number; only equality matters.
#[derive(Debug, Default)]
pub(crate) struct Adjacency {
    /// Changesets whose run has ended.
    closed: std::collections::HashSet<usize>,
    current: Option<usize>,
}

impl Adjacency {
    /// The next item's changeset; `Ok(true)` when it starts a new changeset.
    #[inline]
    pub(crate) fn next(&mut self, changeset: Option<usize>) -> Result<bool, Rule> {
        if changeset == self.current {
            return Ok(false);
        }
        if let Some(previous) = self.current {
            self.closed.insert(previous);
        }
        self.current = changeset;
        match changeset {
            Some(c) if self.closed.contains(&c) => Err(Rule::ChangesetNotAdjacent),
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// Whether changeset `c` has ended (every member seen, and an item outside it since).
    pub(crate) fn has_ended(&self, c: usize) -> bool {
        self.closed.contains(&c)
    }
}

/// The changesets of a list of items as index ranges of their members, in order; `Err((rule, index))` names
/// the first item that breaks [`Rule::ChangesetNotAdjacent`].
pub(crate) fn changeset_runs(
    changesets: impl Iterator<Item = Option<usize>>,
) -> Result<Vec<Range<usize>>, (Rule, usize)> {
    let mut adjacency = Adjacency::default();
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut count = 0;
    for (i, changeset) in changesets.enumerate() {
        count = i + 1;
        if adjacency.next(changeset).map_err(|rule| (rule, i))? {
            if let Some(last) = runs.last_mut() {
                last.end = last.end.min(i);
            }
            runs.push(i..usize::MAX);
        } else if changeset.is_none() {
            if let Some(last) = runs.last_mut() {
                last.end = last.end.min(i);
            }
        }
    }
    if let Some(last) = runs.last_mut() {
        last.end = last.end.min(count);
    }
    Ok(runs)
}

/// What a request depends on, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DependsOn<'a> {
    /// The request with this Content-ID.
    Request(&'a str),
    /// The changeset with this number.
    Changeset(usize),
}

/// Whether the `dependsOn` lists and `if` conditions of a list of requests can be written as multipart, where
/// requests run in order and a changeset fails as a whole: feed each request in order.
#[derive(Debug, Default)]
pub(crate) struct MultipartDependencies {
    /// The changeset of each Content-ID defined so far (latest definition).
    ids: std::collections::HashMap<String, Option<usize>>,
    changesets: Adjacency,
}

impl MultipartDependencies {
    /// One request: its Content-ID, changeset, dependencies and whether it has a condition. With
    /// `continue_on_error`, a service runs a request even when what it depends on failed, so only a request
    /// earlier in the request's own changeset (which fails as a whole) can be depended on.
    pub(crate) fn next<'a>(
        &mut self,
        content_id: Option<&str>,
        changeset: Option<usize>,
        depends_on: impl Iterator<Item = DependsOn<'a>>,
        has_condition: bool,
        continue_on_error: bool,
    ) -> Result<(), Rule> {
        // Adjacency is the encoder's to report, at the item where it writes; here it only tracks ended runs.
        let _ = self.changesets.next(changeset);
        if has_condition {
            return Err(Rule::ConditionNotExpressible);
        }
        for dependency in depends_on {
            let holds = match (dependency, continue_on_error) {
                (DependsOn::Request(id), false) => self.ids.contains_key(id),
                (DependsOn::Request(id), true) => {
                    changeset.is_some() && self.ids.get(id).is_some_and(|&c| c == changeset)
                }
                (DependsOn::Changeset(c), false) => self.changesets.has_ended(c),
                (DependsOn::Changeset(_), true) => false,
            };
            if !holds {
                return Err(Rule::DependencyNotExpressible);
            }
        }
        if let Some(id) = content_id {
            self.ids.insert(id.to_owned(), changeset);
        }
        Ok(())
    }
}

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Content-IDs defined so far, for request validation: one arena and one open-addressing table (linear probing,
/// at most half full), so recording an id allocates nothing beyond amortised growth and hashes it once.
#[derive(Debug, Default)]
pub(crate) struct ContentIds {
    /// Random per table, so that nobody can choose ids that collide.
    seed: Seed,
    arena: Vec<u8>,
    ranges: Vec<(u32, u32)>,
    /// The table: for each id, the index of its latest definition. Length zero or a power of two.
    slots: Vec<Slot>,
    /// Occupied slots.
    occupied: usize,
    /// Ids that are small decimal numbers written canonically (`0` to `4095`, no leading zero), as nearly
    /// every client numbers them: the latest definition by number (index plus one, zero for none). No hash,
    /// no comparison.
    numbered: Vec<u32>,
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
    /// A seeded multiply-xor hash, word by word: cheap for the short ids batches use. A collision costs one more
    /// probe and a byte comparison, never a wrong answer.
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

    /// Definitions recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
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

    fn request(rules: &mut RequestRules, method: &str, target: &str, id: Option<&str>) -> Result<(), Rule> {
        let key = rules
            .check(method.as_bytes(), target.as_bytes(), id.map(str::as_bytes))
            .map_err(|(rule, _)| rule)?;
        if let (Some(id), Some(key)) = (id, key) {
            rules.record(id.as_bytes(), key);
        }
        Ok(())
    }

    #[test]
    fn id_scope_decides_what_is_a_duplicate() {
        for scope in [ContentIdScope::Changeset, ContentIdScope::Batch] {
            let mut rules = RequestRules::new(scope);
            request(&mut rules, "POST", "A", Some("1")).unwrap();
            // Outside changesets, only the batch scope compares.
            let top = request(&mut rules, "POST", "A", Some("1"));
            rules.begin_changeset();
            request(&mut rules, "POST", "A", Some("2")).unwrap();
            let inside = request(&mut rules, "POST", "$2/B", Some("2"));
            rules.end_changeset();
            rules.begin_changeset();
            let next_changeset = request(&mut rules, "POST", "A", Some("2"));
            match scope {
                ContentIdScope::Changeset => {
                    assert_eq!((top, next_changeset), (Ok(()), Ok(())));
                }
                ContentIdScope::Batch => {
                    assert_eq!(top, Err(Rule::DuplicateContentId));
                    assert_eq!(next_changeset, Err(Rule::DuplicateContentId));
                }
            }
            assert_eq!(inside, Err(Rule::DuplicateContentId), "{scope:?}");
            assert_eq!(
                request(&mut rules, "get", "A", None),
                Err(Rule::MethodNotAllowedInChangeset)
            );
            assert_eq!(
                request(&mut rules, "HEAD", "A", None),
                Err(Rule::MethodNotAllowedInChangeset)
            );
            assert_eq!(
                request(&mut rules, "POST", "$9", None),
                Err(Rule::UnknownContentIdReference)
            );
            assert_eq!(request(&mut rules, "POST", "$1/x", None), Ok(()));
            rules.end_changeset();
            assert_eq!(request(&mut rules, "GET", "$2", None), Ok(()));
        }
    }

    #[test]
    fn scope_for_each_version() {
        for (version, scope) in [
            ("4.0", ContentIdScope::Changeset),
            ("3.0", ContentIdScope::Changeset),
            ("4.01", ContentIdScope::Batch),
            (" 4.1 ", ContentIdScope::Batch),
            ("5.0", ContentIdScope::Batch),
            ("4", ContentIdScope::Changeset),
            ("x", ContentIdScope::Changeset),
        ] {
            assert_eq!(ContentIdScope::for_version(version), scope, "{version}");
        }
    }

    #[test]
    fn changeset_runs_and_adjacency() {
        let runs = |groups: &[Option<usize>]| changeset_runs(groups.iter().copied());
        assert_eq!(runs(&[]), Ok(vec![]));
        assert_eq!(runs(&[None, None]), Ok(vec![]));
        assert_eq!(runs(&[Some(0), Some(0), None, Some(1)]), Ok(vec![0..2, 3..4]));
        assert_eq!(runs(&[Some(7), Some(3), Some(3)]), Ok(vec![0..1, 1..3]));
        assert_eq!(
            runs(&[None, Some(0), Some(1), Some(0)]),
            Err((Rule::ChangesetNotAdjacent, 3))
        );
        assert_eq!(runs(&[Some(0), None, Some(0)]), Err((Rule::ChangesetNotAdjacent, 2)));
        assert_eq!(runs(&[Some(usize::MAX), None]), Ok(vec![Range { start: 0, end: 1 }]));
    }

    #[test]
    fn dependencies_multipart_can_express() {
        use DependsOn::{Changeset, Request};
        let check = |items: &[(Option<&str>, Option<usize>, Vec<DependsOn<'static>>)], continue_on_error: bool| {
            let mut deps = MultipartDependencies::default();
            for (i, (id, changeset, depends)) in items.iter().enumerate() {
                deps.next(*id, *changeset, depends.iter().copied(), false, continue_on_error)
                    .map_err(|rule| (rule, i))?;
            }
            Ok::<(), (Rule, usize)>(())
        };
        let batch = vec![
            (Some("a"), Some(0), vec![]),
            (Some("b"), Some(0), vec![Request("a")]),
            (None, None, vec![Changeset(0), Request("b")]),
        ];
        assert_eq!(check(&batch, false), Ok(()));
        // With continue-on-error only a dependency inside the own changeset holds.
        assert_eq!(check(&batch, true), Err((Rule::DependencyNotExpressible, 2)));
        assert_eq!(check(&batch[..2], true), Ok(()));
        // Later, unknown, or the own changeset: never.
        let forward = vec![(None, None, vec![Request("a")]), (Some("a"), None, vec![])];
        assert_eq!(check(&forward, false), Err((Rule::DependencyNotExpressible, 0)));
        let own = vec![(None, Some(0), vec![]), (None, Some(0), vec![Changeset(0)])];
        assert_eq!(check(&own, false), Err((Rule::DependencyNotExpressible, 1)));
        let mut deps = MultipartDependencies::default();
        assert_eq!(
            deps.next(None, None, std::iter::empty(), true, false),
            Err(Rule::ConditionNotExpressible)
        );
    }
}
