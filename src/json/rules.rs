//! The JSON format's rules on ids, atomicity groups, `dependsOn` and references, item by item. Content-ID
//! uniqueness and adjacency are the crate's OData rules ([`crate::rules`]); what only the JSON format has
//! (`dependsOn`, `if`, ids that name groups) is checked here.

use super::error::JsonErrorKind;
use crate::model::Dependency;
use crate::rules::{content_id_reference, Adjacency, ContentIdScope, RequestRules, Rule};
use crate::QuotedText;

/// Which member an error of the rules points at.
#[derive(Debug, Clone, Copy)]
pub(super) enum Member {
    Id,
    Group,
    DependsOn,
    Url,
    If,
}

pub(super) type RuleError = (JsonErrorKind, Member);

/// Ids seen, each with the group of its item: the OData rules' Content-ID table (ids unique in the whole
/// document, as the format requires) plus the groups by definition.
#[derive(Debug)]
pub(super) struct IdGroups {
    table: RequestRules,
    groups: Vec<Option<usize>>,
}

impl Default for IdGroups {
    fn default() -> Self {
        Self {
            table: RequestRules::new(ContentIdScope::Batch),
            groups: Vec::new(),
        }
    }
}

impl IdGroups {
    fn get(&self, id: &str) -> Option<&Option<usize>> {
        self.table.defined(id.as_bytes()).map(|i| &self.groups[i])
    }

    fn contains_key(&self, id: &str) -> bool {
        self.table.defined(id.as_bytes()).is_some()
    }

    /// Checks that `id` is new, the rules' duplicate check.
    fn check(&self, id: &str) -> Result<(), Rule> {
        self.table.check_content_id(id.as_bytes()).map(|_| ())
    }

    fn insert(&mut self, id: &str, group: Option<usize>) {
        self.table.define(id.as_bytes());
        self.groups.push(group);
    }
}

/// The format's rules on ids, atomicity groups and dependencies, checked item by item.
#[derive(Debug, Default)]
pub(super) struct Rules {
    /// Each id seen, with the group of its item.
    ids: IdGroups,
    /// Group names in order of appearance.
    pub(super) groups: Vec<String>,
    /// Adjacency of each group's requests.
    adjacency: Adjacency,
}

/// `1*unreserved` (RFC 3986): letters, digits, `-`, `.`, `_`, `~`.
pub(crate) fn is_unreserved_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The `$name` references of an `if` expression, system names left out.
pub(super) fn condition_references(condition: &str) -> impl Iterator<Item = &str> {
    let bytes = condition.as_bytes();
    memchr::memchr_iter(b'$', bytes).filter_map(move |i| {
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'$')) {
            return None;
        }
        let name = &condition[i + 1..];
        let end = name
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')))
            .unwrap_or(name.len());
        let name = &name[..end];
        let target = &condition[i..i + 1 + end];
        let is_reference = content_id_reference(target.as_bytes()).is_some();
        let implicit = ["it", "this", "now"].iter().any(|s| s.eq_ignore_ascii_case(name));
        (is_reference && !implicit).then_some(name)
    })
}

impl Rules {
    /// The group index of an item, checking names and adjacency.
    fn group(
        &mut self,
        id: Option<&str>,
        group: Option<&str>,
        validate: bool,
        adjacent: bool,
    ) -> Result<Option<usize>, RuleError> {
        if let Some(id) = id {
            if validate {
                if !is_unreserved_id(id) {
                    return Err((JsonErrorKind::InvalidId(QuotedText::new(id.as_bytes())), Member::Id));
                }
                self.ids
                    .check(id)
                    .map_err(|rule| (JsonErrorKind::Rule(rule), Member::Id))?;
                if self.groups.iter().any(|g| g == id) || group == Some(id) {
                    return Err((JsonErrorKind::IdEqualsGroup(QuotedText::new(id.as_bytes())), Member::Id));
                }
            }
        }
        let index = match group {
            None => None,
            Some(g) => match self.groups.iter().position(|known| known == g) {
                Some(i) => Some(i),
                None => {
                    if validate {
                        if !is_unreserved_id(g) {
                            return Err((JsonErrorKind::InvalidId(QuotedText::new(g.as_bytes())), Member::Group));
                        }
                        if self.ids.contains_key(g) {
                            return Err((
                                JsonErrorKind::IdEqualsGroup(QuotedText::new(g.as_bytes())),
                                Member::Group,
                            ));
                        }
                    }
                    self.groups.push(g.into());
                    Some(self.groups.len() - 1)
                }
            },
        };
        if adjacent {
            self.adjacency
                .next(index)
                .map_err(|rule| (JsonErrorKind::Rule(rule), Member::Group))?;
        }
        Ok(index)
    }

    /// Whether an item with this id has been read (or written) so far.
    pub(super) fn has_id(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    pub(super) fn response(
        &mut self,
        id: Option<&str>,
        group: Option<&str>,
        validate: bool,
    ) -> Result<Option<usize>, RuleError> {
        // A service may answer in any order (it may run groups in parallel): responses of one group need not
        // be adjacent.
        let index = self.group(id, group, validate, false)?;
        self.record(id, index);
        Ok(index)
    }

    fn record(&mut self, id: Option<&str>, group: Option<usize>) {
        if let Some(id) = id {
            self.ids.insert(id, group);
        }
    }

    pub(super) fn request(
        &mut self,
        id: Option<&str>,
        group: Option<&str>,
        depends: &[String],
        url: &str,
        condition: Option<&str>,
        validate: bool,
    ) -> Result<(Option<usize>, Vec<Dependency>), RuleError> {
        let index = self.group(id, group, validate, true)?;
        let mut depends_on = Vec::with_capacity(depends.len());
        for name in depends {
            let dependency = if let Some(&member_group) = self.ids.get(name.as_str()) {
                if validate && member_group.is_some() && member_group != index {
                    return Err((
                        JsonErrorKind::DependsOnMemberOfOtherGroup(QuotedText::new(name.as_bytes())),
                        Member::DependsOn,
                    ));
                }
                Dependency::Request(name.clone())
            } else if let Some(g) = self.groups.iter().position(|known| known == name) {
                if index == Some(g) {
                    return Err((
                        JsonErrorKind::DependsOnOwnGroup(QuotedText::new(name.as_bytes())),
                        Member::DependsOn,
                    ));
                }
                Dependency::Changeset(g)
            } else {
                return Err((
                    JsonErrorKind::UnknownDependency(QuotedText::new(name.as_bytes())),
                    Member::DependsOn,
                ));
            };
            depends_on.push(dependency);
        }
        // A URL is a string, so its reference is too.
        let url_reference = content_id_reference(url.as_bytes()).and_then(|r| std::str::from_utf8(r).ok());
        // The dependency a `$id` URL implies is not kept: writing JSON adds it back, so that model -> JSON ->
        // model and JSON -> model -> JSON agree.
        if let Some(reference) = url_reference {
            if let Some(&group) = self.ids.get(reference) {
                let implied = match group {
                    Some(g) if group != index => Dependency::Changeset(g),
                    _ => Dependency::Request(reference.to_owned()),
                };
                if let Some(i) = depends_on.iter().position(|d| *d == implied) {
                    depends_on.remove(i);
                }
            }
        }
        if validate {
            let listed = |reference: &str| {
                depends.iter().any(|d| d == reference)
                    || self
                        .ids
                        .get(reference)
                        .copied()
                        .flatten()
                        .is_some_and(|g| depends.iter().any(|d| *d == self.groups[g]))
            };
            if let Some(reference) = url_reference {
                if !listed(reference) {
                    return Err((
                        JsonErrorKind::ReferenceNotInDependsOn(QuotedText::new(reference.as_bytes())),
                        Member::Url,
                    ));
                }
            }
            for reference in condition.into_iter().flat_map(condition_references) {
                if !listed(reference) {
                    return Err((
                        JsonErrorKind::ReferenceNotInDependsOn(QuotedText::new(reference.as_bytes())),
                        Member::If,
                    ));
                }
            }
        }
        self.record(id, index);
        Ok((index, depends_on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_references_skip_system_names() {
        let refs: Vec<&str> = condition_references("$1/Price gt 0 and $it/x eq $root/y and $Order").collect();
        assert_eq!(refs, ["1", "Order"]);
    }
}
