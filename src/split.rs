//! Splitting a batch that has more operations than a service takes (Dataverse: 1000, Creatio: 100) into
//! several, and joining their responses back in the original order.

use std::collections::HashMap;
use std::fmt;

use crate::model::{BatchRequest, BatchResponse, Dependency};
use crate::rules::{changeset_runs, content_id_reference, Rule};

/// Why a batch cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SplitError {
    /// The maximum is zero.
    ZeroMaximum,
    /// A changeset has more operations than one batch may hold: changesets are never split.
    ChangesetTooLarge {
        /// The first operation of the changeset (0-based, in batch order).
        operation: usize,
        /// Its operations.
        operations: usize,
        /// The maximum per batch.
        max: usize,
    },
    /// An operation refers (by a `$id` URL or `dependsOn`) to an operation or changeset that ends up in an
    /// earlier batch, where the service cannot resolve it.
    ReferenceAcrossSplit {
        /// The referring operation (0-based, in batch order).
        operation: usize,
    },
    /// An OData rule is broken ([`Rule::ChangesetNotAdjacent`]: the members of a changeset are apart).
    Rule {
        /// The rule.
        rule: Rule,
        /// The operation that broke it (0-based, in batch order).
        operation: usize,
    },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroMaximum => f.write_str("the maximum of operations per batch is zero"),
            Self::ChangesetTooLarge {
                operation,
                operations,
                max,
            } => write!(
                f,
                "operation {operation}: a changeset of {operations} operations does not fit in batches of {max}"
            ),
            Self::ReferenceAcrossSplit { operation } => {
                write!(
                    f,
                    "operation {operation}: refers to an operation that goes into an earlier batch"
                )
            }
            Self::Rule { rule, operation } => write!(f, "operation {operation}: {rule}"),
        }
    }
}

impl std::error::Error for SplitError {}

impl BatchRequest {
    /// Splits the batch into batches of at most `max` operations, in order, never splitting a changeset (a
    /// batch ends early rather than cut one). Changesets are renumbered within each batch.
    ///
    /// # Errors
    ///
    /// [`SplitError`]: a changeset larger than `max`, or a Content-ID reference (`$id` URL or `dependsOn`)
    /// that would cross from one batch into an earlier one.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchRequest;
    ///
    /// let mut batch = BatchRequest::builder();
    /// batch.get("A");
    /// let mut cs = batch.changeset();
    /// cs.post("B");
    /// cs.post("C");
    /// batch.get("D");
    /// let batch = batch.build().unwrap();
    /// let parts = batch.split(2).unwrap();
    /// let sizes: Vec<usize> = parts.iter().map(|b| b.items.len()).collect();
    /// assert_eq!(sizes, [1, 2, 1]); // the changeset is not cut
    /// assert_eq!(parts[1].items[0].changeset, Some(0));
    /// ```
    pub fn split(&self, max: usize) -> Result<Vec<Self>, SplitError> {
        if max == 0 {
            return Err(SplitError::ZeroMaximum);
        }
        // Units: a lone operation, or a whole changeset, as index ranges.
        let runs = changeset_runs(self.items.iter().map(|item| item.changeset))
            .map_err(|(rule, operation)| SplitError::Rule { rule, operation })?;
        let mut units: Vec<(usize, usize)> = Vec::new();
        let mut runs = runs.into_iter().peekable();
        let mut i = 0;
        while i < self.items.len() {
            let end = match runs.next_if(|run| run.start == i) {
                Some(run) if run.len() > max => {
                    return Err(SplitError::ChangesetTooLarge {
                        operation: i,
                        operations: run.len(),
                        max,
                    })
                }
                Some(run) => run.end,
                None => i + 1,
            };
            units.push((i, end));
            i = end;
        }
        // Greedy packing of whole units.
        let mut parts: Vec<(usize, usize)> = Vec::new();
        for (start, end) in units {
            match parts.last_mut() {
                Some(last) if end - last.0 <= max => last.1 = end,
                _ => parts.push((start, end)),
            }
        }
        // Which part each Content-ID and changeset went to.
        let mut id_part: HashMap<&str, usize> = HashMap::new();
        let mut changeset_part: HashMap<usize, usize> = HashMap::new();
        let mut out = Vec::with_capacity(parts.len());
        for (p, &(start, end)) in parts.iter().enumerate() {
            let mut batch = Self::new();
            let mut renumber: HashMap<usize, usize> = HashMap::new();
            for (k, item) in self.items[start..end].iter().enumerate() {
                let operation = start + k;
                let crosses = |id: &[u8]| {
                    std::str::from_utf8(id)
                        .ok()
                        .and_then(|id| id_part.get(id))
                        .is_some_and(|&q| q != p)
                };
                if content_id_reference(item.url.as_bytes()).is_some_and(crosses) {
                    return Err(SplitError::ReferenceAcrossSplit { operation });
                }
                let mut item = item.clone();
                for dependency in &mut item.depends_on {
                    let other = match dependency {
                        Dependency::Request(id) => id_part.get(id.as_str()).copied(),
                        Dependency::Changeset(c) => changeset_part.get(c).copied(),
                    };
                    if other.is_some_and(|q| q != p) {
                        return Err(SplitError::ReferenceAcrossSplit { operation });
                    }
                    if let Dependency::Changeset(c) = dependency {
                        if let Some(&n) = renumber.get(c) {
                            *c = n;
                        }
                    }
                }
                if let Some(c) = item.changeset {
                    let next = renumber.len();
                    let n = *renumber.entry(c).or_insert(next);
                    changeset_part.insert(c, p);
                    item.changeset = Some(n);
                }
                if let Some(id) = &self.items[operation].content_id {
                    id_part.insert(id.as_str(), p);
                }
                batch.items.push(item);
            }
            batch.changesets = renumber.len();
            batch.annotations.clone_from(&self.annotations);
            out.push(batch);
        }
        if out.is_empty() {
            out.push(Self {
                annotations: self.annotations.clone(),
                ..Self::default()
            });
        }
        Ok(out)
    }
}

impl BatchResponse {
    /// Appends the responses of a later batch (from [`BatchRequest::split`]), renumbering its changesets
    /// after this one's. Its annotations and `next_link` replace this one's when it has them.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::BatchResponse;
    ///
    /// let mut first = BatchResponse::builder();
    /// first.changeset().respond(http::StatusCode::CREATED);
    /// let mut second = BatchResponse::builder();
    /// second.changeset().respond(http::StatusCode::NO_CONTENT);
    /// let mut first = first.build().unwrap();
    /// let second = second.build().unwrap();
    /// first.append(second);
    /// assert_eq!(first.changesets, 2);
    /// assert_eq!(first.items[1].changeset, Some(1));
    /// ```
    pub fn append(&mut self, later: Self) {
        let offset = self.changesets;
        for mut item in later.items {
            item.changeset = item.changeset.map(|c| c + offset);
            self.items.push(item);
        }
        self.changesets += later.changesets;
        if !later.annotations.is_empty() {
            self.annotations = later.annotations;
        }
        if later.next_link.is_some() {
            self.next_link = later.next_link;
        }
    }
}
