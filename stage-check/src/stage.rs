//! The stages of the series: which crate takes which step, and so which
//! checks it runs. A new stage is one more entry in [`STAGES`].

/// Which kind of server a stage builds, and so which list of checks applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Part 4: a TCP echo server.
    Echo,
    /// Parts 5 and on: an HTTP server, answering one request per connection
    /// up to part 8, and request after request on one from part 9 on
    /// ([`Stage::persistent`]).
    Http,
}

/// A stage of the series: one of this workspace's crates, and the step of
/// the series it takes. A stage runs the checks of its kind that its part
/// or an earlier one introduces ([`Check::since`](crate::Check::since)), so that a part 5 server
/// is never held to what part 6 teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The crate's name, such as `part5-oo-session`.
    pub name: &'static str,
    /// The short form, such as `part5`: every stage of that part answers to
    /// it, since they run the same checks.
    pub short: &'static str,
    /// The part of the series, 4 for `part4-tcp-echo`.
    pub part: u8,
    pub kind: Kind,
    /// Where an HTTP stage serves the post's page: `/` until part 7's
    /// application, `/index.html` in part 8's. (The echo stage has none.)
    pub page: &'static str,
    /// Checks of earlier parts that this stage's lesson changes on purpose,
    /// each with why: left out of its run. (Part 8's `GET /` answers the
    /// query it got, no longer the page.)
    pub retires: &'static [(&'static str, &'static str)],
    /// Whether the stage keeps a connection open for the next request
    /// (part 9 on), rather than closing after each answer. The checks judge
    /// a connection by what each answer says of it, so the same checks hold
    /// either kind; this says which the stage is, so that `--list` shows
    /// what the earlier checks mean on a kept connection, the transcript
    /// expects its log, and our tests start it with a keep-alive timeout.
    pub persistent: bool,
    /// What a check is worth when a class is graded, for the checks worth
    /// other than one point (see [`Stage::points`]); empty for equal weights.
    pub points: &'static [(&'static str, u32)],
}

/// Every stage, in the series' order. A new stage is one more line here,
/// and its checks name its part in [`Check::since`](crate::Check::since).
pub const STAGES: &[Stage] = &[
    Stage {
        name: "part4-tcp-echo",
        short: "part4",
        part: 4,
        kind: Kind::Echo,
        page: "",
        retires: &[],
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part5-http-httparse",
        short: "part5",
        part: 5,
        kind: Kind::Http,
        page: "/",
        retires: &[],
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part5-oo-session",
        short: "part5",
        part: 5,
        kind: Kind::Http,
        page: "/",
        retires: &[],
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part6-custom-parser",
        short: "part6",
        part: 6,
        kind: Kind::Http,
        page: "/",
        retires: &[],
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part7-app-interface",
        short: "part7",
        part: 7,
        kind: Kind::Http,
        page: "/",
        retires: &[],
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part8-web-framework",
        short: "part8",
        part: 8,
        kind: Kind::Http,
        page: "/index.html",
        retires: FRAMEWORK_RETIRES,
        persistent: false,
        points: &[],
    },
    Stage {
        name: "part9-keep-alive",
        short: "part9",
        part: 9,
        kind: Kind::Http,
        page: "/index.html",
        retires: FRAMEWORK_RETIRES,
        persistent: true,
        points: &[],
    },
    Stage {
        name: "part10-thread-pool",
        short: "part10",
        part: 10,
        kind: Kind::Http,
        page: "/index.html",
        retires: FRAMEWORK_RETIRES,
        persistent: true,
        points: &[],
    },
    Stage {
        name: "part11-event-loop",
        short: "part11",
        part: 11,
        kind: Kind::Http,
        page: "/index.html",
        retires: FRAMEWORK_RETIRES,
        persistent: true,
        points: &[],
    },
    Stage {
        name: "part12-async",
        short: "part12",
        part: 12,
        kind: Kind::Http,
        page: "/index.html",
        retires: FRAMEWORK_RETIRES,
        persistent: true,
        points: &[],
    },
];

/// What part 8's web framework retires, and part 9, which keeps its
/// application, with it.
const FRAMEWORK_RETIRES: &[(&str, &str)] = &[
    (
        "hello_world_page",
        "GET / answers the query it got; the page is at /index.html (see media_types)",
    ),
    ("curl", "GET / answers the query it got, not the page"),
];

/// What the log of a stage of `part` says serves a connection (see
/// [`Stage::served_by`]): the one home of the rule, for the stages and for
/// a [`Target`](crate::Target) checked as one.
pub(crate) fn served_by(part: u8) -> Option<&'static str> {
    match part {
        ..=9 => None,
        10 | 11 => Some("Worker"),
        12.. => Some("Task"),
    }
}

impl Stage {
    /// The stage a crate name (`part4-tcp-echo`, `part5-oo-session`, …) or a
    /// short form (`part4`, `part5`, `part6`) stands for.
    pub fn from_name(name: &str) -> Option<Stage> {
        STAGES
            .iter()
            .find(|stage| stage.name == name || stage.short == name)
            .copied()
    }

    /// Whether the stage serves its connections from a fixed set of
    /// workers (part 10's pool of threads, part 11's event loops, part
    /// 12's runtime), rather than a thread each: its log then says what
    /// serves a connection ([`Stage::served_by`]).
    pub fn pooled(&self) -> bool {
        self.part >= 10
    }

    /// What the stage's log says serves a connection, the line after
    /// `Socket established with ADDR.`: `Worker` (`Worker N serves ADDR.`)
    /// for part 10's pool and part 11's loops, `Task` (`Task N serves
    /// ADDR.`) from part 12's async tasks on; none before part 10.
    pub fn served_by(&self) -> Option<&'static str> {
        served_by(self.part)
    }

    /// What passing the check `name` is worth in a grade: what
    /// [`points`](Stage::points) says, or one point.
    pub fn points(&self, name: &str) -> u32 {
        self.points
            .iter()
            .find(|(check, _)| *check == name)
            .map_or(1, |(_, points)| *points)
    }

    /// The most `checks` can score: the sum of their points.
    pub fn max_score(&self, checks: &[&crate::Check]) -> u32 {
        checks.iter().map(|check| self.points(check.name)).sum()
    }

    /// Every name a stage answers to: the crate names, then the short forms.
    pub fn names() -> Vec<&'static str> {
        let mut names: Vec<&str> = STAGES.iter().map(|stage| stage.name).collect();
        for stage in STAGES {
            if !names.contains(&stage.short) {
                names.push(stage.short);
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_name_is_known() {
        for name in Stage::names() {
            let stage = Stage::from_name(name).unwrap();
            assert!(stage.name == name || stage.short == name);
        }
        assert_eq!(Stage::from_name("part5").map(|s| s.part), Some(5));
        assert_eq!(Stage::from_name("part11").map(|s| s.part), Some(11));
        assert_eq!(Stage::from_name("part12").map(|s| s.part), Some(12));
        assert_eq!(Stage::from_name("part13"), None);
        let part9 = Stage::from_name("part9").unwrap();
        assert_eq!(part9.name, "part9-keep-alive");
        assert!(part9.persistent && STAGES.iter().filter(|s| s.persistent).all(|s| s.part >= 9));
        assert!(!part9.pooled() && Stage::from_name("part10").is_some_and(|s| s.pooled()));
        // Workers serve a connection in parts 10 and 11, a task from part 12.
        let served_by = |short| Stage::from_name(short).and_then(|s| s.served_by());
        assert_eq!(part9.served_by(), None);
        assert_eq!(served_by("part10"), Some("Worker"));
        assert_eq!(served_by("part11"), Some("Worker"));
        assert_eq!(served_by("part12"), Some("Task"));
        assert!(STAGES.iter().all(|s| s.pooled() == s.served_by().is_some()));
        assert_eq!(
            Stage::from_name("part8").map(|s| s.retires),
            Some(part9.retires)
        );
        // A check is worth one point unless its stage says otherwise, and
        // what a stage says is of its own checks.
        assert_eq!(Stage::from_name("part5").map(|s| s.points("curl")), Some(1));
        for stage in STAGES {
            let checks = crate::checks(*stage, crate::Rules::All);
            for (name, _) in stage.points {
                assert!(
                    checks.iter().any(|c| c.name == *name),
                    "{}: {name}",
                    stage.name
                );
            }
        }
        // The stages come in the series' order.
        assert!(STAGES.windows(2).all(|pair| pair[0].part <= pair[1].part));
    }
}
