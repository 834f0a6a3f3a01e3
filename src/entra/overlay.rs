//! A scenario's own changes to the active mapping profile: the few mappings and the matching
//! precedence a scenario about a configured tenant needs (match by `externalId` mapped from
//! `objectId`, by the work email, a precedence-2 fallback), applied on top of whatever
//! profile the run uses, so the rest of the scenario still follows that profile.

use super::expr::Expr;
use super::profile::{Mapping, MappingSet, Profile};
use super::target::{Resource, Target};

/// What a scenario's `profile` key changes, per object type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    pub users: SetOverlay,
    pub groups: SetOverlay,
}

/// Changes to one mapping set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetOverlay {
    /// Target ← source attribute: replaces the mapping to that target, or adds one.
    pub map: Vec<(Target, String)>,
    /// Targets whose mapping is removed.
    pub unmap: Vec<Target>,
    /// Matching attributes in precedence order, replacing the profile's.
    pub matching: Option<Vec<Target>>,
}

impl Overlay {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.users == SetOverlay::default() && self.groups == SetOverlay::default()
    }

    /// `base` with these changes. Matching attributes the result does not map are left out
    /// (a `--mappings` profile may lack them); when none is left, the base precedence stays.
    pub fn apply(&self, base: &Profile) -> Profile {
        if self.is_empty() {
            return base.clone();
        }
        let mut p = base.clone();
        for (resource, overlay) in [
            (Resource::User, &self.users),
            (Resource::Group, &self.groups),
        ] {
            overlay.apply(p.set_mut(resource));
        }
        p.name = format!("{} + scenario changes", base.name);
        p
    }
}

impl SetOverlay {
    fn apply(&self, set: &mut MappingSet) {
        for target in &self.unmap {
            set.remove(target);
        }
        for (target, source) in &self.map {
            let mapping = Mapping {
                source_text: source.clone(),
                is_expression: false,
                source: Expr::Source(source.clone()),
                target: target.clone(),
                default: None,
            };
            match set.mappings.iter_mut().find(|m| &m.target == target) {
                Some(m) => *m = mapping,
                None => set.mappings.push(mapping),
            }
        }
        if let Some(matching) = &self.matching {
            let mapped: Vec<Target> = matching
                .iter()
                .filter(|t| set.get(t).is_some())
                .cloned()
                .collect();
            if !mapped.is_empty() {
                set.matching = mapped;
            }
        }
        set.matching
            .retain(|t| set.mappings.iter().any(|m| &m.target == t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(path: &str) -> Target {
        Target::parse(Resource::User, path).unwrap()
    }

    #[test]
    fn an_overlay_remaps_and_reorders_matching_on_top_of_the_base() {
        let base = Profile::default_mappings();
        let overlay = Overlay {
            users: SetOverlay {
                map: vec![(user("externalId"), "objectId".into())],
                unmap: vec![user("title")],
                matching: Some(vec![user("externalId"), user("userName")]),
            },
            groups: SetOverlay::default(),
        };
        let p = overlay.apply(&base);
        let ext = p.users.get(&user("externalId")).unwrap();
        assert_eq!(ext.source_text, "objectId");
        assert!(p.users.get(&user("title")).is_none());
        assert_eq!(p.users.matching, [user("externalId"), user("userName")]);
        assert_eq!(p.users.mappings.len(), base.users.mappings.len() - 1);
        assert_eq!(Overlay::default().apply(&base), base);
    }

    #[test]
    fn matching_attributes_the_result_does_not_map_are_left_out() {
        let overlay = Overlay {
            users: SetOverlay {
                unmap: vec![user("externalId")],
                matching: Some(vec![user("externalId"), user("userName")]),
                ..SetOverlay::default()
            },
            groups: SetOverlay::default(),
        };
        let p = overlay.apply(&Profile::default_mappings());
        assert_eq!(p.users.matching, [user("userName")]);
    }
}
