//! The fact sheet's §11 behaviours (items 1–58), with what the catalogue says about each.
//!
//! Scenarios name the items they replay in their `behaviours` field; this table gives the
//! items their titles and the notes the catalogue document shows beside them. An item no
//! scenario replays must say why (`declined`).

/// One §11 item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behaviour {
    pub number: u32,
    pub title: &'static str,
    /// How the scenarios treat it (evidence, warnings), shown beside the scenarios.
    pub note: &'static str,
    /// Why no scenario replays it; empty when scenarios do.
    pub declined: &'static str,
}

const fn item(number: u32, title: &'static str, note: &'static str) -> Behaviour {
    Behaviour {
        number,
        title,
        note,
        declined: "",
    }
}

/// Every §11 item, in order.
pub const BEHAVIOURS: [Behaviour; 58] = [
    item(
        1,
        "Test connection",
        "The group probe's shape is inferred, so its checks are warnings.",
    ),
    item(
        2,
        "Test connection tolerance",
        "Entra's exact Accept header is unknown (§10); the harness sends `*/*`, one step a browser-like Accept (warning).",
    ),
    item(3, "Auth rejected", ""),
    item(4, "Match miss → create", ""),
    item(
        5,
        "Create, legacy payload",
        "Legacy example; nulls in the response are a warning.",
    ),
    item(6, "Match hit", ""),
    item(7, "Case-insensitive userName match", ""),
    item(8, "Match by externalId", ""),
    item(9, "Match by email", ""),
    item(10, "Duplicate create", ""),
    item(11, "Get by id", ""),
    item(12, "Replace single attribute", ""),
    item(13, "Replace via filtered path", ""),
    item(14, "Add into missing filtered element", ""),
    item(15, "Several sub-attributes, one element", ""),
    item(
        16,
        "Path-less replace with dotted/URN keys",
        "Literal dotted/URN keys left in the resource are warnings; the missing nested update fails.",
    ),
    item(17, "Op casing", ""),
    item(
        18,
        "Disable, default mode",
        "Also the tutorial's hybrid form (`Replace` + JSON `false`). On demand always uses the default dialect.",
    ),
    item(19, "Disable, flag mode", ""),
    item(
        20,
        "Re-enable",
        "Request shape inferred from U6; memberships must survive (documented).",
    ),
    item(21, "Disabled user still found", ""),
    item(22, "Delete user", ""),
    item(
        23,
        "Manager add, string value",
        "The production string form is replayed in every dialect: the flag is not known to change manager shapes.",
    ),
    item(24, "Manager add/replace, object value", ""),
    item(
        25,
        "Manager, legacy array",
        "Legacy docs: status not enforced, read-back a warning.",
    ),
    item(
        26,
        "Manager removal",
        "Three forms in one scenario (one employee each); the manager must be absent or null afterwards.",
    ),
    item(27, "Manager rendered as complex", ""),
    item(
        28,
        "String booleans in POST",
        "Reading back a JSON boolean is a warning.",
    ),
    item(
        29,
        "Role PATCH with JSON-string values",
        "Accepts 200/204 or a clear 400 (apps without roles); stored roles are a warning.",
    ),
    item(
        30,
        "Unknown attribute",
        "Accepts 200/204 or a clear 400; the user must be intact afterwards.",
    ),
    item(31, "Group query without members", ""),
    item(32, "Group query miss", ""),
    item(33, "Group query other case", ""),
    item(34, "Group create (Entra shape)", ""),
    item(
        35,
        "Group create, Postman shapes",
        "Not production traffic (Validator and Postman shapes); the initial member is a warning.",
    ),
    item(36, "Duplicate group", ""),
    item(37, "Group get by id", ""),
    item(38, "Group rename", ""),
    item(39, "Group path-less replace", ""),
    item(40, "Add members (batched)", ""),
    item(41, "Remove member, default mode", ""),
    item(42, "Remove member, flag mode", ""),
    item(
        43,
        "Add+remove same member",
        "Validator preview test; RFC 7644 order of operations makes the outcome certain.",
    ),
    item(44, "Replace member list", ""),
    item(45, "Delete group", ""),
    item(
        46,
        "Empty group lifecycle",
        "Inferred that an empty group must survive; checked in both dialects.",
    ),
    item(47, "Unassign user", ""),
    item(48, "Hard delete in Entra", ""),
    item(49, "Full restart", ""),
    item(50, "Provision on demand", ""),
    item(
        51,
        "Error format",
        "Error bodies are checked with `scim.error` (fail) in the errors scenarios and as a warning wherever else an error is expected (401s, 404s, 409s).",
    ),
    Behaviour {
        number: 52,
        title: "Throttling",
        note: "",
        declined: "Needs an endpoint that rate-limits; a burst from the harness would also hit real staging endpoints. The HTTP layer honours `Retry-After` on 429 for every step, and a 429 is reported with its header.",
    },
    Behaviour {
        number: 53,
        title: "Latency",
        note: "",
        declined: "Covered by the harness, not a scenario: every step runs under the per-request timeout (Entra gives up after 60 s and logs `Timeout`).",
    },
    item(
        54,
        "Schema discovery",
        "Gallery apps only: every check is a warning (run with `--strict` for a gallery app).",
    ),
    item(
        55,
        "Pagination",
        "Unfiltered listing; steps excluded from snapshots. Group paging is a warning. totalResults stability is not asserted (concurrent scenarios change it).",
    ),
    item(
        56,
        "Null/empty PATCH",
        "Statuses are required, and so is that the old value is gone; whether it reads back absent or empty is a warning.",
    ),
    item(
        57,
        "Special characters in filter values",
        "Plus-addressed and `&` values must match (fail); a quote or backslash Entra may never send (D-KNOWN) is a warning.",
    ),
    item(
        58,
        "Extra query parameter",
        "Inferred: every check is a warning.",
    ),
];
