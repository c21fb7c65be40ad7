//! Splitting a batch for services with a maximum of operations per batch.

use http::StatusCode;
use odata_batch::{BatchRequest, BatchResponse, Dependency, RequestItem, SplitError};

fn sizes(parts: &[BatchRequest]) -> Vec<usize> {
    parts.iter().map(|b| b.items.len()).collect()
}

#[test]
fn parts_are_in_order_and_never_cut_a_changeset() {
    let mut batch = BatchRequest::builder();
    for i in 0..5 {
        batch.get(format!("A({i})"));
    }
    let mut cs = batch.changeset();
    for i in 0..3 {
        cs.post(format!("B{i}"));
    }
    batch.get("C");
    let mut cs = batch.changeset();
    cs.post("D");
    let batch = batch.build().unwrap();
    let parts = batch.split(4).unwrap();
    assert_eq!(sizes(&parts), [4, 4, 2]);
    let urls: Vec<&str> = parts
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i.url.as_str()))
        .collect();
    assert_eq!(
        urls,
        ["A(0)", "A(1)", "A(2)", "A(3)", "A(4)", "B0", "B1", "B2", "C", "D"]
    );
    // Changesets are renumbered per part.
    let changesets: Vec<Vec<Option<usize>>> = parts
        .iter()
        .map(|p| p.items.iter().map(|i| i.changeset).collect())
        .collect();
    assert_eq!(
        changesets,
        [
            vec![None; 4],
            vec![None, Some(0), Some(0), Some(0)],
            vec![None, Some(0)]
        ]
    );
    assert_eq!(parts.iter().map(|p| p.changesets).collect::<Vec<_>>(), [0, 1, 1]);
    // A changeset that does not fit in what is left of a part starts the next one.
    assert_eq!(sizes(&batch.split(3).unwrap()), [3, 2, 3, 2]);
    // Small enough: one part, equal to the batch.
    assert_eq!(batch.split(100).unwrap(), vec![batch.clone()]);
    // Each part encodes.
    for part in &parts {
        part.encode().unwrap();
    }
}

#[test]
fn what_cannot_be_split_is_refused() {
    let mut batch = BatchRequest::builder();
    batch.get("A");
    let mut cs = batch.changeset();
    for i in 0..3 {
        cs.post(format!("B{i}"));
    }
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.split(2).unwrap_err(),
        SplitError::ChangesetTooLarge {
            operation: 1,
            operations: 3,
            max: 2
        }
    );
    assert_eq!(batch.split(0).unwrap_err(), SplitError::ZeroMaximum);

    // A `$1` reference into an earlier part.
    let mut batch = BatchRequest::builder();
    let created = batch.post("People").reference();
    batch.post(format!("{created}/Friends"));
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.split(1).unwrap_err(),
        SplitError::ReferenceAcrossSplit { operation: 1 }
    );
    assert_eq!(sizes(&batch.split(2).unwrap()), [2]);

    // dependsOn into an earlier part, by id or by changeset.
    let mut batch = BatchRequest::builder();
    batch.get("A").content_id("a");
    let mut dependent = RequestItem::new(http::Method::GET, "B");
    dependent.depends_on.push(Dependency::Request("a".into()));
    batch.push(dependent);
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.split(1).unwrap_err(),
        SplitError::ReferenceAcrossSplit { operation: 1 }
    );
    let mut batch = BatchRequest::builder();
    batch.changeset().post("A");
    let mut dependent = RequestItem::new(http::Method::GET, "B");
    dependent.depends_on.push(Dependency::Changeset(0));
    batch.push(dependent);
    let batch = batch.build().unwrap();
    assert_eq!(
        batch.split(1).unwrap_err(),
        SplitError::ReferenceAcrossSplit { operation: 1 }
    );
    assert_eq!(
        SplitError::ReferenceAcrossSplit { operation: 1 }.to_string(),
        "operation 1: refers to an operation that goes into an earlier batch"
    );
}

#[test]
fn responses_join_in_order() {
    let mut first = BatchResponse::builder();
    first.respond(StatusCode::OK);
    first.changeset().respond(StatusCode::CREATED);
    let mut second = BatchResponse::builder();
    second.changeset().respond(StatusCode::NO_CONTENT);
    let mut second = second.build().unwrap();
    second.next_link = Some("more".into());
    let mut first = first.build().unwrap();
    first.append(second);
    let shape: Vec<(Option<usize>, u16)> = first.items.iter().map(|i| (i.changeset, i.status.as_u16())).collect();
    assert_eq!(shape, [(None, 200), (Some(0), 201), (Some(1), 204)]);
    assert_eq!((first.changesets, first.next_link.as_deref()), (2, Some("more")));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A batch of entries: a lone GET (maybe referring to an earlier id) or a changeset of POSTs.
    fn batch() -> impl Strategy<Value = BatchRequest> {
        prop::collection::vec((0usize..4, any::<bool>(), any::<prop::sample::Index>()), 0..30).prop_map(|entries| {
            let mut batch = BatchRequest::builder();
            let mut ids: Vec<String> = Vec::new();
            for (n, (size, refer, target)) in entries.into_iter().enumerate() {
                if size == 0 {
                    let url = if refer && !ids.is_empty() {
                        format!("${}/x", ids[target.index(ids.len())])
                    } else {
                        format!("A({n})")
                    };
                    let id = format!("g{n}");
                    batch.get(url).content_id(id.clone());
                    ids.push(id);
                } else {
                    let mut cs = batch.changeset();
                    for k in 0..size {
                        let id = format!("c{n}_{k}");
                        cs.post(format!("B{n}")).content_id(id.clone());
                        ids.push(id);
                    }
                }
            }
            batch.build().unwrap()
        })
    }

    proptest! {
        #[test]
        fn parts_keep_every_operation_in_order_within_the_maximum(batch in batch(), max in 1usize..8) {
            match batch.split(max) {
                Ok(parts) => {
                    let urls: Vec<&str> = parts.iter().flat_map(|p| p.items.iter().map(|i| i.url.as_str())).collect();
                    let original: Vec<&str> = batch.items.iter().map(|i| i.url.as_str()).collect();
                    prop_assert_eq!(urls, original);
                    for part in &parts {
                        prop_assert!(part.items.len() <= max || batch.items.is_empty());
                        // Each part is a valid batch on its own: changesets numbered from 0, references
                        // resolvable inside it.
                        prop_assert!(part.encode().is_ok(), "{:?}", part.encode());
                    }
                    prop_assert_eq!(parts.iter().map(|p| p.changesets).sum::<usize>(), batch.changesets);
                }
                Err(SplitError::ChangesetTooLarge { operations, max: m, .. }) => {
                    prop_assert!(operations > m);
                }
                Err(SplitError::ReferenceAcrossSplit { operation }) => {
                    prop_assert!(batch.items[operation].url.starts_with('$'));
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
