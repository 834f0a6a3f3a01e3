//! Splitting a selection of scenarios across CI machines: `count:K/N` or `hash:K/N`.
//!
//! Both are deterministic. `count` sorts the selected scenarios by name and deals them out
//! round-robin, so the shards are as even as they can be but a scenario may move to another
//! shard when the selection changes. `hash` puts each scenario in the shard its name hashes
//! to (FNV-1a, a fixed function, so the answer is the same on every machine, build and
//! run), so a scenario stays in its shard when others are added or removed; the shards are
//! only roughly even.

use super::model::Scenario;
use std::fmt;
use std::str::FromStr;

/// The most shards a run can be split into.
pub const MAX_SHARDS: u32 = 1000;

/// How scenarios are assigned to shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Count,
    Hash,
}

/// Shard `index` of `total` (1-based, as written on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub strategy: Strategy,
    pub index: u32,
    pub total: u32,
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let strategy = match self.strategy {
            Strategy::Count => "count",
            Strategy::Hash => "hash",
        };
        write!(f, "{strategy}:{}/{}", self.index, self.total)
    }
}

impl FromStr for Partition {
    type Err = String;

    /// `count:K/N`, `hash:K/N`, or a bare `K/N` (count).
    fn from_str(s: &str) -> Result<Partition, String> {
        let (strategy, shard) = match s.split_once(':') {
            Some(("count", rest)) => (Strategy::Count, rest),
            Some(("hash", rest)) => (Strategy::Hash, rest),
            Some((other, _)) => {
                return Err(format!(
                    "unknown partition strategy `{other}`: use `count:K/N` or `hash:K/N`"
                ));
            }
            None => (Strategy::Count, s),
        };
        let usage =
            || format!("`{s}` is not a partition: use `count:K/N` or `hash:K/N`, e.g. `hash:2/4`");
        let (index, total) = shard.split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let total: u32 = total.trim().parse().map_err(|_| usage())?;
        if total == 0 || total > MAX_SHARDS {
            return Err(format!(
                "the shard count in `{s}` must be between 1 and {MAX_SHARDS}"
            ));
        }
        if index == 0 || index > total {
            return Err(format!(
                "the shard in `{s}` must be between 1 and {total} (shards are numbered from 1)"
            ));
        }
        Ok(Partition {
            strategy,
            index,
            total,
        })
    }
}

impl Partition {
    /// The scenarios of this shard, in their original order.
    pub fn apply(&self, scenarios: Vec<Scenario>) -> Vec<Scenario> {
        let shard = self.index - 1;
        let total = u64::from(self.total);
        match self.strategy {
            Strategy::Hash => scenarios
                .into_iter()
                .filter(|s| fnv1a(s.name.as_bytes()) % total == u64::from(shard))
                .collect(),
            Strategy::Count => {
                let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                names.sort_unstable();
                let mine: std::collections::HashSet<String> = names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i as u64 % total == u64::from(shard))
                    .map(|(_, n)| n.to_string())
                    .collect();
                scenarios
                    .into_iter()
                    .filter(|s| mine.contains(&s.name))
                    .collect()
            }
        }
    }
}

/// 64-bit FNV-1a: fixed, so a name lands in the same shard everywhere.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(scenarios: &[Scenario]) -> Vec<String> {
        scenarios.iter().map(|s| s.name.clone()).collect()
    }

    #[test]
    fn parses_both_strategies_and_rejects_nonsense() {
        let p: Partition = "hash:2/4".parse().unwrap();
        assert_eq!((p.strategy, p.index, p.total), (Strategy::Hash, 2, 4));
        assert_eq!(p.to_string(), "hash:2/4");
        let bare: Partition = "1/3".parse().unwrap();
        assert_eq!(bare.to_string(), "count:1/3");
        for (bad, says) in [
            ("0/3", "numbered from 1"),
            ("4/3", "between 1 and 3"),
            ("1/0", "between 1 and 1000"),
            ("count:1", "e.g. `hash:2/4`"),
            ("slice:1/2", "unknown partition strategy `slice`"),
            ("hash:a/b", "is not a partition"),
        ] {
            let err = bad.parse::<Partition>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn fnv_is_the_published_function() {
        // Test vectors of 64-bit FNV-1a: a change here would move scenarios between shards.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_shard_of_the_catalogue_is_disjoint_and_together_complete() {
        let all = crate::scenario::builtin::load_builtin().unwrap();
        let mut expected = names(&all);
        expected.sort();
        for strategy in ["count", "hash"] {
            for total in [1u32, 2, 3, 7] {
                let mut seen: Vec<String> = Vec::new();
                let mut sizes = Vec::new();
                for index in 1..=total {
                    let p: Partition = format!("{strategy}:{index}/{total}").parse().unwrap();
                    let shard = names(&p.apply(all.clone()));
                    sizes.push(shard.len());
                    seen.extend(shard);
                }
                seen.sort();
                assert_eq!(seen, expected, "{strategy} over {total} shards");
                if strategy == "count" {
                    let (min, max) = (sizes.iter().min(), sizes.iter().max());
                    assert!(max.unwrap() - min.unwrap() <= 1, "{sizes:?}");
                }
            }
        }
    }

    #[test]
    fn a_hash_shard_keeps_its_scenarios_when_others_are_added() {
        let all = crate::scenario::builtin::load_builtin().unwrap();
        let p: Partition = "hash:2/3".parse().unwrap();
        let fewer: Vec<Scenario> = all.iter().step_by(2).cloned().collect();
        let shard_all = names(&p.apply(all));
        for name in names(&p.apply(fewer)) {
            assert!(shard_all.contains(&name), "{name} moved shard");
        }
    }
}
