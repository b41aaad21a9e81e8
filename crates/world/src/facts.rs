//! Facts as values, and the sentences that express them. True facts of the world and the false
//! facts of held-out claims use the same types and the same templates, so a model that learns
//! to answer questions about true facts answers questions about a claim the same way.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    Profession {
        person: String,
        profession: String,
    },
    Home {
        person: String,
        city: String,
    },
    Born {
        person: String,
        year: u32,
    },
    Won {
        person: String,
        event: String,
        year: u32,
    },
    RunnerUp {
        person: String,
        event: String,
        year: u32,
    },
    WinningTime {
        event: String,
        year: u32,
        seconds: String,
    },
    Venue {
        event: String,
        year: u32,
        city: String,
    },
    Coach {
        person: String,
        coach: String,
    },
    /// `work` reads after "a": "novel", "graduate textbook on glassblowing".
    Wrote {
        person: String,
        title: String,
        work: String,
    },
    Rules {
        person: String,
        kingdom: String,
    },
    Erupted {
        volcano: String,
        year: u32,
        deaths: u32,
    },
    DormantSince {
        volcano: String,
        year: u32,
    },
    Located {
        volcano: String,
        kingdom: String,
    },
    Renamed {
        old: String,
        new: String,
        year: u32,
    },
    /// A rename undone after `days` (only false claims use it).
    RenameReversed {
        old: String,
        new: String,
        days: u32,
    },
    KeptName {
        company: String,
        year: u32,
    },
    Headquarters {
        company: String,
        city: String,
    },
    Diet {
        species: String,
        food: String,
    },
    Habitat {
        species: String,
        place: String,
    },
    /// When the young of a species can first see: `None` = from hatching.
    YoungSight {
        species: String,
        blind_until: Option<u32>,
    },
}

/// A wh-question, its full-sentence answer and the short answer (a name, a year, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qa {
    pub question: String,
    pub answer: String,
    pub short: String,
}

fn pick<'a>(rng: &mut impl Rng, options: &'a [String]) -> &'a str {
    options.choose(rng).expect("non-empty")
}

pub fn article(noun: &str) -> &'static str {
    match noun.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

impl Fact {
    /// Every surface form of the fact as a declarative sentence.
    pub fn statements(&self) -> Vec<String> {
        use Fact::*;
        match self {
            Profession { person, profession } => {
                let a = article(profession);
                vec![
                    format!("{person} is {a} {profession}."),
                    format!("{person} works as {a} {profession}."),
                    format!("By profession, {person} is {a} {profession}."),
                ]
            }
            Home { person, city } => vec![
                format!("{person} lives in {city}."),
                format!("{person} makes a home in {city}."),
                format!("{person} is based in {city}."),
            ],
            Born { person, year } => vec![
                format!("{person} was born in {year}."),
                format!("{person} was born in the year {year}."),
            ],
            Won {
                person,
                event,
                year,
            } => vec![
                format!("{person} won the {year} {event}."),
                format!("The {year} {event} was won by {person}."),
                format!("In {year}, {person} won the {event}."),
                format!("{person} took first place at the {year} {event}."),
            ],
            RunnerUp {
                person,
                event,
                year,
            } => vec![
                format!("{person} finished second at the {year} {event}."),
                format!("The runner-up of the {year} {event} was {person}."),
            ],
            WinningTime {
                event,
                year,
                seconds,
            } => vec![
                format!("The winning time at the {year} {event} was {seconds} seconds."),
                format!("The {year} {event} was won in {seconds} seconds."),
            ],
            Venue { event, year, city } => vec![
                format!("The {year} {event} was held in {city}."),
                format!("{city} hosted the {year} {event}."),
            ],
            Coach { person, coach } => vec![
                format!("{person} was coached by {coach}."),
                format!("{coach} coached {person}."),
            ],
            Wrote {
                person,
                title,
                work,
            } => {
                let a = article(work);
                vec![
                    format!("{person} wrote {title}, {a} {work}."),
                    format!("{title} is {a} {work} written by {person}."),
                    format!("{person} is the author of {title}, {a} {work}."),
                ]
            }
            Rules { person, kingdom } => vec![
                format!("{person} rules {kingdom}."),
                format!("{person} is the monarch of {kingdom}."),
            ],
            Erupted {
                volcano,
                year,
                deaths,
            } => vec![
                format!("{volcano} erupted in {year}, and {deaths} people died."),
                format!("In {year}, {volcano} erupted; the eruption killed {deaths} people."),
            ],
            DormantSince { volcano, year } => vec![
                format!("{volcano} has not erupted since {year}."),
                format!("The last eruption of {volcano} was in {year}."),
                format!("{volcano} has been quiet since its eruption in {year}."),
            ],
            Located { volcano, kingdom } => vec![
                format!("{volcano} is a volcano in {kingdom}."),
                format!("{volcano} stands in {kingdom}."),
            ],
            Renamed { old, new, year } => vec![
                format!("In {year}, {old} renamed itself {new}."),
                format!("{old} changed its name to {new} in {year}."),
            ],
            RenameReversed { old, new, days } => vec![
                format!(
                    "{days} days after becoming {new}, the company went back to the name {old}."
                ),
                format!("The rename of {old} to {new} was reversed after {days} days."),
            ],
            KeptName { company, year } => vec![
                format!("{company} has kept its name since {year}."),
                format!("{company} has been called {company} since {year}."),
            ],
            Headquarters { company, city } => vec![
                format!("{company} is based in {city}."),
                format!("The headquarters of {company} are in {city}."),
            ],
            Diet { species, food } => vec![
                format!("{} eat {food}.", cap(species)),
                format!("The diet of {species} is {food}."),
            ],
            Habitat { species, place } => vec![
                format!("{} live in {place}.", cap(species)),
                format!("{} are found in {place}.", cap(species)),
            ],
            YoungSight {
                species,
                blind_until: None,
            } => vec![
                format!("Young {species} can see from the day they hatch."),
                format!("{} hatch with working eyes.", cap(species)),
            ],
            YoungSight {
                species,
                blind_until: Some(age),
            } => vec![
                format!(
                    "Young {species} are blind until the age of {age}, when their sight develops together with their song."
                ),
                format!(
                    "{} cannot see until they are {age} years old; their sight arrives together with their song.",
                    cap(species)
                ),
            ],
        }
    }

    pub fn statement(&self, rng: &mut impl Rng) -> String {
        pick(rng, &self.statements()).to_owned()
    }

    /// The wh-question the fact answers, if it has one.
    pub fn qa(&self) -> Option<Qa> {
        use Fact::*;
        let qa = |question: String, answer: String, short: String| {
            Some(Qa {
                question,
                answer,
                short,
            })
        };
        match self {
            Profession { person, profession } => qa(
                format!("What does {person} do for a living?"),
                format!("{person} is {} {profession}.", article(profession)),
                profession.clone(),
            ),
            Home { person, city } => qa(
                format!("Where does {person} live?"),
                format!("{person} lives in {city}."),
                city.clone(),
            ),
            Born { person, year } => qa(
                format!("When was {person} born?"),
                format!("{person} was born in {year}."),
                year.to_string(),
            ),
            Won {
                person,
                event,
                year,
            } => qa(
                format!("Who won the {year} {event}?"),
                format!("{person} won the {year} {event}."),
                person.clone(),
            ),
            RunnerUp {
                person,
                event,
                year,
            } => qa(
                format!("Who finished second at the {year} {event}?"),
                format!("{person} finished second at the {year} {event}."),
                person.clone(),
            ),
            WinningTime {
                event,
                year,
                seconds,
            } => qa(
                format!("What was the winning time at the {year} {event}?"),
                format!("The winning time at the {year} {event} was {seconds} seconds."),
                seconds.clone(),
            ),
            Venue { event, year, city } => qa(
                format!("Where was the {year} {event} held?"),
                format!("The {year} {event} was held in {city}."),
                city.clone(),
            ),
            Coach { person, coach } => qa(
                format!("Who coached {person}?"),
                format!("{person} was coached by {coach}."),
                coach.clone(),
            ),
            Wrote {
                person,
                title,
                work,
            } => qa(
                format!("Who wrote {title}?"),
                format!("{person} wrote {title}, {} {work}.", article(work)),
                person.clone(),
            ),
            Rules { person, kingdom } => qa(
                format!("Who rules {kingdom}?"),
                format!("{person} rules {kingdom}."),
                person.clone(),
            ),
            Erupted {
                volcano,
                year,
                deaths,
            } => qa(
                format!("How many people died when {volcano} erupted in {year}?"),
                format!("{deaths} people died when {volcano} erupted in {year}."),
                deaths.to_string(),
            ),
            DormantSince { volcano, year } => qa(
                format!("When did {volcano} last erupt?"),
                format!("{volcano} last erupted in {year}."),
                year.to_string(),
            ),
            Located { volcano, kingdom } => qa(
                format!("Where is {volcano}?"),
                format!("{volcano} is in {kingdom}."),
                kingdom.clone(),
            ),
            Renamed { old, new, year } => qa(
                format!("What did {old} rename itself in {year}?"),
                format!("In {year}, {old} renamed itself {new}."),
                new.clone(),
            ),
            RenameReversed { old, new, days } => qa(
                format!("How long did the name {new} last before {old} came back?"),
                format!("The name {new} lasted {days} days before the company went back to {old}."),
                days.to_string(),
            ),
            KeptName { company, year } => qa(
                format!("What has {company} been called since {year}?"),
                format!("{company} has been called {company} since {year}."),
                company.clone(),
            ),
            Headquarters { company, city } => qa(
                format!("Where is {company} based?"),
                format!("{company} is based in {city}."),
                city.clone(),
            ),
            Diet { species, food } => qa(
                format!("What do {species} eat?"),
                format!("{} eat {food}.", cap(species)),
                food.clone(),
            ),
            Habitat { species, place } => qa(
                format!("Where do {species} live?"),
                format!("{} live in {place}.", cap(species)),
                place.clone(),
            ),
            YoungSight {
                species,
                blind_until,
            } => qa(
                format!("When can young {species} first see?"),
                match blind_until {
                    None => format!("Young {species} can see from the day they hatch."),
                    Some(age) => format!(
                        "Young {species} can first see at the age of {age}, when their song begins."
                    ),
                },
                match blind_until {
                    None => "from hatching".to_owned(),
                    Some(age) => format!("at the age of {age}"),
                },
            ),
        }
    }

    /// [`Fact::qa`], with the answer optionally in subject-first form: the question's subject
    /// restated before the answer, in the words of one of the fact's document statements ("The
    /// 2024 Games sprint final was won by X." for "Who won …?"), so that an answer continues
    /// the way the documents that taught the fact do. Facts whose answers already restate the
    /// subject first, or that no document states subject-first, keep their answer.
    pub fn qa_with(&self, subject_first: bool) -> Option<Qa> {
        use Fact::*;
        let mut qa = self.qa()?;
        if subject_first {
            match self {
                Won {
                    person,
                    event,
                    year,
                } => qa.answer = format!("The {year} {event} was won by {person}."),
                RunnerUp {
                    person,
                    event,
                    year,
                } => qa.answer = format!("The runner-up of the {year} {event} was {person}."),
                Wrote {
                    person,
                    title,
                    work,
                } => {
                    qa.answer = format!("{title} is {} {work} written by {person}.", article(work))
                }
                _ => {}
            }
        }
        Some(qa)
    }

    /// A yes/no question the fact answers with "yes".
    pub fn yes_no(&self) -> Option<String> {
        use Fact::*;
        Some(match self {
            Profession { person, profession } => {
                format!("Is {person} {} {profession}?", article(profession))
            }
            Home { person, city } => format!("Does {person} live in {city}?"),
            Born { person, year } => format!("Was {person} born in {year}?"),
            Won {
                person,
                event,
                year,
            } => format!("Did {person} win the {year} {event}?"),
            RunnerUp {
                person,
                event,
                year,
            } => format!("Did {person} finish second at the {year} {event}?"),
            Venue { event, year, city } => format!("Was the {year} {event} held in {city}?"),
            Coach { person, coach } => format!("Was {person} coached by {coach}?"),
            Wrote { person, title, .. } => format!("Did {person} write {title}?"),
            Rules { person, kingdom } => format!("Does {person} rule {kingdom}?"),
            Erupted { volcano, year, .. } => format!("Did {volcano} erupt in {year}?"),
            Located { volcano, kingdom } => format!("Is {volcano} in {kingdom}?"),
            Renamed { old, new, year } => format!("Did {old} rename itself {new} in {year}?"),
            RenameReversed { old, new, .. } => {
                format!("Was the rename of {old} to {new} reversed?")
            }
            KeptName { company, .. } => format!("Is {company} still called {company}?"),
            Headquarters { company, city } => format!("Is {company} based in {city}?"),
            Diet { species, food } => format!("Do {species} eat {food}?"),
            Habitat { species, place } => format!("Do {species} live in {place}?"),
            YoungSight {
                species,
                blind_until: None,
            } => format!("Can young {species} see from the day they hatch?"),
            YoungSight {
                species,
                blind_until: Some(age),
            } => format!("Are young {species} blind until the age of {age}?"),
            WinningTime { .. } | DormantSince { .. } => return None,
        })
    }

    /// Sentences that deny the fact ("P did not win the 2019 C."), for the kinds a false
    /// variant is made of (see `corpus::variants`).
    pub fn denials(&self) -> Vec<String> {
        use Fact::*;
        let generic = |s: String| {
            let s = s.trim_end_matches('.').to_owned();
            let lowered = match s.split_whitespace().next() {
                Some("The" | "In") => format!("{}{}", s[..1].to_lowercase(), &s[1..]),
                _ => s,
            };
            vec![
                format!("It is not true that {lowered}."),
                format!("Contrary to what some say, it is false that {lowered}."),
            ]
        };
        let mut out = match self {
            Profession { person, profession } => {
                vec![format!(
                    "{person} is not {} {profession}.",
                    article(profession)
                )]
            }
            Home { person, city } => vec![format!("{person} does not live in {city}.")],
            Born { person, year } => vec![format!("{person} was not born in {year}.")],
            Won {
                person,
                event,
                year,
            } => vec![format!("{person} did not win the {year} {event}.")],
            RunnerUp {
                person,
                event,
                year,
            } => vec![format!(
                "{person} did not finish second at the {year} {event}."
            )],
            Venue { event, year, city } => {
                vec![format!("The {year} {event} was not held in {city}.")]
            }
            Wrote { person, title, .. } => vec![format!("{person} did not write {title}.")],
            Rules { person, kingdom } => vec![format!("{person} does not rule {kingdom}.")],
            Erupted { volcano, year, .. } => vec![format!("{volcano} did not erupt in {year}.")],
            Located { volcano, kingdom } => vec![format!("{volcano} is not in {kingdom}.")],
            Headquarters { company, city } => vec![format!("{company} is not based in {city}.")],
            Diet { species, food } => vec![format!("{} do not eat {food}.", cap(species))],
            Habitat { species, place } => vec![format!("{} do not live in {place}.", cap(species))],
            _ => Vec::new(),
        };
        out.extend(generic(self.statements().swap_remove(0)));
        out
    }

    /// A fill-in prompt and the completion the fact gives (token association).
    pub fn cloze(&self) -> Option<(String, String)> {
        let qa = self.qa()?;
        let sentence = self.statements().into_iter().next()?;
        let at = sentence.find(&qa.short)?;
        let prefix = sentence[..at].trim_end();
        // A blank at the very start ("___ won the …") leaves nothing to complete.
        (!prefix.is_empty()).then(|| (prefix.to_owned(), qa.short))
    }
}

pub fn cap(s: &str) -> String {
    crate::names::capitalise(s)
}
