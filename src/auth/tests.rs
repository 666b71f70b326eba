//! The access rule, worked out by hand from the role matrix in
//! docs/design.md "Authentication and roles".

use super::*;

/// The roles that may do `access`, as a string like "RA-BD" (Recorder,
/// Analyst, auditor as U, Board, aDmin), for a matrix readable at a glance.
fn allowed(access: Access) -> String {
    Role::ALL
        .iter()
        .zip(['R', 'A', 'U', 'B', 'D'])
        .map(|(role, letter)| if role.may(access) { letter } else { '-' })
        .collect()
}

#[test]
fn the_role_matrix() {
    use Access::*;
    let matrix = [
        (Health, "RAUBD"),
        (ApiDocument, "RAU-D"),
        (Command, "R---D"),
        (Import, "R---D"),
        (ImportStatus, "R-U-D"),
        (EntityState, "-AU-D"),
        (EntityStateKnownAt, "--U-D"),
        (Report, "-AU-D"),
        (ReportKnownAt, "--U-D"),
        (BoardView, "-AUBD"),
        (History, "--U-D"),
        (AuditFeed, "--U-D"),
        (AuditChain, "--U-D"),
        (LadderRead, "-AU-D"),
        (LadderReplace, "----D"),
        (ProjectionStatus, "-AU-D"),
        (Rebuild, "----D"),
    ];
    for (access, roles) in matrix {
        assert_eq!(allowed(access), roles, "{access:?}");
    }
}

#[test]
fn requests_are_classified_by_method_route_and_query() {
    use Access::*;
    let cases = [
        ("POST", "/api/v1/participants/{id}/leavings", None, Some(Command)),
        ("GET", "/api/v1/participants/{id}", None, Some(EntityState)),
        (
            "GET",
            "/api/v1/participants/{id}",
            Some("known_at=2024-01-01T00:00:00Z"),
            Some(EntityStateKnownAt),
        ),
        (
            "GET",
            "/api/v1/reports/{kind}",
            Some("from=2020-01-01&to=2021-01-01"),
            Some(Report),
        ),
        (
            "GET",
            "/api/v1/reports/{kind}",
            Some("to=2021-01-01&known_at=x"),
            Some(ReportKnownAt),
        ),
        // Escaped, the key is still known_at.
        (
            "GET",
            "/api/v1/reports/{kind}",
            Some("known%5Fat=x"),
            Some(ReportKnownAt),
        ),
        // A board view as known then is still suppressed: a board view.
        (
            "GET",
            "/api/v1/reports/{kind}",
            Some("view=board&known_at=x"),
            Some(BoardView),
        ),
        ("GET", "/api/v1/reports/{kind}", Some("view=board"), Some(BoardView)),
        ("GET", "/api/v1/reports/{kind}", Some("view=boards"), Some(Report)),
        ("GET", "/board", Some("organisation=x&known_at=y"), Some(BoardView)),
        ("GET", "/board/{section}", None, Some(BoardView)),
        ("GET", "/api/v1/board/retention", None, None),
        ("GET", "/api/v1/boarding", None, None),
        (
            "PUT",
            "/api/v1/organisations/{organisation}/ladder",
            None,
            Some(LadderReplace),
        ),
        ("POST", "/api/v1/admin/rebuild", None, Some(Rebuild)),
        ("GET", "/api/v1/events", Some("after=0"), Some(AuditFeed)),
        // HEAD runs the GET handler, so it is judged as GET.
        ("HEAD", "/api/v1/events", None, Some(AuditFeed)),
        ("GET", "/healthz/live", None, Some(Health)),
        // Deny by default: no rule, refused to everyone.
        ("DELETE", "/api/v1/participants", None, None),
        ("GET", "/api/v1/secret", None, None),
        ("POST", "/board", None, None),
    ];
    for (method, route, query, expected) in cases {
        assert_eq!(classify(method, route, query), expected, "{method} {route} {query:?}");
    }
    assert!(route_has_rules("/api/v1/participants"));
    assert!(!route_has_rules("/api/v1/secret"));
}

#[test]
fn tokens_are_256_random_bits_in_base64url_stored_as_their_sha256() {
    assert_eq!(base64url(b"f"), "Zg");
    assert_eq!(base64url(b"fo"), "Zm8");
    assert_eq!(base64url(b"foo"), "Zm9v");
    assert_eq!(base64url(b"foob"), "Zm9vYg");
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    let token = new_token().unwrap();
    // 32 bytes: 10 groups of 4 characters and 3 for the last 2 bytes.
    assert_eq!(token.len(), TOKEN_PREFIX.len() + 43, "{token}");
    assert!(token.starts_with(TOKEN_PREFIX));
    assert_ne!(token, new_token().unwrap());
    let hex: String = digest("abc").iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn token_names_are_short_and_plain() {
    for good in ["alice", "hr-import", "a.b@c+d_e", &"x".repeat(64)] {
        assert!(check_name(good).is_ok(), "{good}");
    }
    for bad in ["", "-alice", "al ice", "alice\n", "émile", &"x".repeat(65)] {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn role_names_round_trip() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::parse("Admin"), None);
}
