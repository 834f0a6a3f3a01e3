//! The generated directory of a load run: users, managers, groups and memberships, all
//! computed from an index and `--seed`, so nothing per object is held in memory and every
//! run (and every shard of one) sees the same directory.
//!
//! Users come in teams of [`TEAM`]: the first user of a team leads it, the others report to
//! the lead (Entra's manager reference). A shard is a set of whole teams, so a shard's
//! managers are always in the shard; a group belongs to one shard and its members are drawn
//! from that shard's users, so every shard is self-contained and the shards of one directory
//! send, together, as many requests of each kind as one run over all of it.

use crate::entra::{Directory, Group, User};

/// Users per team (one lead and the people who report to them).
pub const TEAM: usize = 10;

const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Engineering",
    "Finance",
    "Support",
    "Marketing",
    "Operations",
    "Legal",
    "Research",
];
const GIVEN: &[&str] = &[
    "Alex", "Sam", "Robin", "Kim", "Noor", "Ines", "Jonas", "Mei", "Arjun", "Lea", "Omar", "Sofia",
    "Tomas", "Yuki", "Zara", "Luca",
];
const FAMILY: &[&str] = &[
    "Berg", "Okafor", "Novak", "Silva", "Tanaka", "Meyer", "Haddad", "Larsen", "Rossi", "Kowal",
    "Nguyen", "Ortiz", "Fischer", "Dubois", "Sato", "Moreau",
];
const TITLES: &[&str] = &["Analyst", "Engineer", "Manager", "Consultant", "Specialist"];

/// Which slice of the directory a run sends: shard `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` (1-based K, as a CI matrix or an indexed Job numbers them).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (e.g. `--shard 1/4`)"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` in `{text}` is not a number"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` in `{text}` is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!(
                "`{text}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub users: usize,
    pub groups: usize,
    /// Memberships in all, spread evenly over the groups.
    pub members: usize,
    pub seed: u64,
    /// Every created name starts with it (the run prefix).
    pub prefix: String,
    pub domain: String,
    pub shard: Shard,
}

/// Why a spec cannot be generated.
pub fn check(spec: &Spec) -> Result<(), String> {
    if spec.members > 0 && spec.groups == 0 {
        return Err("--members needs at least one group (--groups)".into());
    }
    let per_group = spec.members.div_ceil(spec.groups.max(1));
    let smallest_shard = spec.users / TEAM / spec.shard.count * TEAM;
    let room = if spec.shard.count == 1 {
        spec.users
    } else {
        smallest_shard
    };
    if per_group > room {
        return Err(format!(
            "--members {} over {} groups is {per_group} per group, more than the {room} users a \
             group can draw from{}",
            spec.members,
            spec.groups,
            if spec.shard.count > 1 {
                " in one shard"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// splitmix64: a fast, well-mixed hash of the seed and a counter.
fn mix(seed: u64, salt: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_add(salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(i.wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pick<'a>(list: &'a [&'a str], h: u64) -> &'a str {
    list[(h % list.len() as u64) as usize]
}

impl Spec {
    /// The shard that owns user `i` (by its team).
    pub fn shard_of_user(&self, i: usize) -> usize {
        (i / TEAM) % self.shard.count
    }

    pub fn shard_of_group(&self, g: usize) -> usize {
        g % self.shard.count
    }

    /// The users this shard sends, in order.
    pub fn my_users(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.users).filter(|i| self.shard_of_user(*i) == self.shard.index)
    }

    pub fn my_groups(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.groups).filter(|g| self.shard_of_group(*g) == self.shard.index)
    }

    /// The object name of user `i` in an action's directory (`u42`).
    pub fn user_name(i: usize) -> String {
        format!("u{i}")
    }

    pub fn group_name(g: usize) -> String {
        format!("g{g}")
    }

    /// The lead of user `i`'s team, unless `i` is the lead.
    pub fn manager_of(&self, i: usize) -> Option<usize> {
        (i % TEAM != 0).then_some(i - i % TEAM)
    }

    /// User `i` as Entra holds it: every default source attribute a real tenant fills.
    pub fn user(&self, i: usize) -> User {
        let h = mix(self.seed, 1, i as u64);
        let given = pick(GIVEN, h);
        let family = pick(FAMILY, h >> 8);
        let dept = pick(DEPARTMENTS, h >> 16);
        let upn = format!(
            "{}{}.{}.{i}@{}",
            self.prefix,
            given.to_lowercase(),
            family.to_lowercase(),
            self.domain
        );
        let mut u = User::default();
        let mut set = |k: &str, v: String| {
            u.attributes.insert(k.into(), Some(v));
        };
        set("userPrincipalName", upn.clone());
        set("mail", upn);
        set("displayName", format!("{given} {family}"));
        set("givenName", given.into());
        set("surname", family.into());
        set("mailNickname", format!("{}{i}", self.prefix));
        set("jobTitle", pick(TITLES, h >> 24).into());
        set("department", dept.into());
        set("employeeId", format!("E{:07}", i));
        set(
            "city",
            pick(&["Lisbon", "Oslo", "Austin", "Pune", "Osaka"], h >> 32).into(),
        );
        set(
            "country",
            pick(&["PT", "NO", "US", "IN", "JP"], h >> 32).into(),
        );
        u.manager = self.manager_of(i).map(Spec::user_name);
        u
    }

    /// Group `g`, without its members (they are added after it exists).
    pub fn group(&self, g: usize) -> Group {
        let h = mix(self.seed, 2, g as u64);
        let mut group = Group::default();
        group.attributes.insert(
            "displayName".into(),
            Some(format!("{}{} {g}", self.prefix, pick(DEPARTMENTS, h))),
        );
        group.attributes.insert(
            "objectId".into(),
            Some(format!("{:08x}-0000-4000-8000-{:012x}", h >> 32, g)),
        );
        group
    }

    /// How many members group `g` has.
    pub fn member_count(&self, g: usize) -> usize {
        if self.groups == 0 {
            return 0;
        }
        self.members / self.groups + usize::from(g < self.members % self.groups)
    }

    /// The users of shard `s` in order, counted.
    fn shard_users(&self, s: usize) -> usize {
        let teams = self.users.div_ceil(TEAM);
        (0..teams)
            .filter(|t| t % self.shard.count == s)
            .map(|t| TEAM.min(self.users - t * TEAM))
            .sum()
    }

    /// The `q`-th user of shard `s`.
    fn shard_user(&self, s: usize, q: usize) -> usize {
        let team = s + self.shard.count * (q / TEAM);
        team * TEAM + q % TEAM
    }

    /// Group `g`'s members (user indices), distinct, from the group's shard.
    pub fn members_of(&self, g: usize) -> Vec<usize> {
        let s = self.shard_of_group(g);
        let pool = self.shard_users(s);
        let n = self.member_count(g).min(pool);
        if n == 0 {
            return Vec::new();
        }
        let offset = (mix(self.seed, 3, g as u64) % pool as u64) as usize;
        (0..n)
            .map(|j| self.shard_user(s, (offset + j) % pool))
            .collect()
    }

    /// A directory holding just these users and groups (with their managers as names),
    /// for rendering one action: memory does not grow with the directory's size.
    pub fn slice(&self, users: &[usize], groups: &[usize]) -> Directory {
        let mut dir = Directory::default();
        for &i in users {
            dir.users.insert(Spec::user_name(i), self.user(i));
        }
        for &g in groups {
            dir.groups.insert(Spec::group_name(g), self.group(g));
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(users: usize, groups: usize, members: usize, shard: Shard) -> Spec {
        Spec {
            users,
            groups,
            members,
            seed: 7,
            prefix: "scimreplay-abc123-".into(),
            domain: "example.com".into(),
            shard,
        }
    }

    #[test]
    fn generation_is_deterministic_and_prefixed() {
        let a = spec(50, 3, 40, Shard::WHOLE);
        let b = spec(50, 3, 40, Shard::WHOLE);
        assert_eq!(a.user(17), b.user(17));
        let upn = a.user(17).value("userPrincipalName").unwrap();
        assert!(upn.starts_with("scimreplay-abc123-"), "{upn}");
        assert_ne!(a.user(17), a.user(18));
        assert_eq!(a.manager_of(17), Some(10));
        assert_eq!(a.manager_of(20), None);
        let other_seed = Spec {
            seed: 8,
            ..a.clone()
        };
        assert_ne!(other_seed.user(17), a.user(17));
    }

    #[test]
    fn memberships_are_distinct_and_add_up() {
        let s = spec(95, 4, 130, Shard::WHOLE);
        let mut total = 0;
        for g in 0..4 {
            let m = s.members_of(g);
            let mut sorted = m.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), m.len(), "group {g} has duplicates");
            assert!(m.iter().all(|u| *u < 95));
            total += m.len();
        }
        assert_eq!(total, 130);
    }

    #[test]
    fn shards_partition_the_directory_and_stay_self_contained() {
        let whole = spec(95, 5, 60, Shard::WHOLE);
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut members = 0;
        for index in 0..3 {
            let s = spec(95, 5, 60, Shard { index, count: 3 });
            let mine: Vec<usize> = s.my_users().collect();
            for &u in &mine {
                if let Some(m) = s.manager_of(u) {
                    assert!(mine.contains(&m), "manager of {u} is in another shard");
                }
            }
            for g in s.my_groups() {
                assert!(s.members_of(g).iter().all(|u| mine.contains(u)));
                members += s.members_of(g).len();
            }
            users.extend(mine);
            groups.extend(s.my_groups());
        }
        users.sort_unstable();
        groups.sort_unstable();
        assert_eq!(users, whole.my_users().collect::<Vec<_>>());
        assert_eq!(groups, (0..5).collect::<Vec<_>>());
        assert_eq!(members, 60);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("0/4").is_err());
        assert!(Shard::parse("5/4").is_err());
        assert!(Shard::parse("x").unwrap_err().contains("K/N"));
    }

    #[test]
    fn too_many_members_per_group_is_an_error() {
        assert!(check(&spec(10, 1, 11, Shard::WHOLE)).is_err());
        assert!(check(&spec(10, 1, 10, Shard::WHOLE)).is_ok());
        assert!(check(&spec(10, 0, 1, Shard::WHOLE)).is_err());
    }
}
