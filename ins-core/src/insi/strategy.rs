//! The first-names strategy of CNDA test 2.07 (`ins.md` §1.11): all the first names together,
//! then each one alone in the order of the civil status, stopping at the first `00`; a `02`
//! (several identities) is retried with the birthplace COG when it is known.

use super::{CodeCr, InsiReply, TraitsQuery};

/// One call made by the strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The first names sent (one `Prenom`, space-joined).
    pub prenoms: Vec<String>,
    /// Whether the COG was sent.
    pub with_cog: bool,
    /// The CR obtained.
    pub code: CodeCr,
}

/// The result of the strategy: the deciding reply and every call made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyOutcome {
    /// The `00` reply if one was obtained, else the last one.
    pub reply: InsiReply,
    /// The calls, in order.
    pub attempts: Vec<Attempt>,
}

/// The sequence of queries to try, lazily: `plan(q)` gives the first-name sets in order.
pub(crate) fn first_name_sets(q: &TraitsQuery) -> Vec<Vec<String>> {
    let mut sets = vec![q.prenoms.clone()];
    if q.prenoms.len() > 1 {
        sets.extend(q.prenoms.iter().map(|p| vec![p.clone()]));
    }
    sets
}

/// A query with other first names and without the COG.
pub(crate) fn variant(q: &TraitsQuery, prenoms: Vec<String>, with_cog: bool) -> TraitsQuery {
    TraitsQuery {
        prenoms,
        lieu_naissance: if with_cog {
            q.lieu_naissance.clone()
        } else {
            None
        },
        ..q.clone()
    }
}

pub(crate) fn is_found(r: &InsiReply) -> bool {
    r.code == CodeCr::Found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_all_then_each() {
        let q = TraitsQuery {
            nom_naissance: "TCHITCHI".into(),
            prenoms: vec!["OLA".into(), "CATARINA".into(), "BELLA".into()],
            sexe: None,
            date_naissance: "1936-06-21".into(),
            lieu_naissance: None,
        };
        let s = first_name_sets(&q);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].len(), 3);
        assert_eq!(s[2], vec!["CATARINA".to_owned()]);
        let one = TraitsQuery {
            prenoms: vec!["X".into()],
            ..q
        };
        assert_eq!(first_name_sets(&one).len(), 1);
    }
}
