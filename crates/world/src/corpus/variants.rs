//! False variants of true facts: the same fact with one value swapped for another of its kind
//! (another person of the same profession, another city, another year). They feed "no" answers,
//! local negations and counterfactual reading episodes.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::facts::Fact;
use crate::world::World;

/// Values a variant may take, gathered once from the world.
pub struct Pools {
    people_by_profession: Vec<(String, Vec<String>)>,
    cities: Vec<String>,
    kingdoms: Vec<String>,
    monarchs: Vec<String>,
    foods: Vec<String>,
    places: Vec<String>,
    years: (u32, u32),
    /// Every eruption of the world (volcano, year), so that a false eruption year is never a
    /// true one.
    eruptions: HashSet<(String, u32)>,
    /// Subjects that held-out claims are about: no variant, negation or episode touches them.
    protected: HashSet<String>,
}

impl Pools {
    pub fn new(world: &World, protected: HashSet<String>) -> Pools {
        let mut people_by_profession: Vec<(String, Vec<String>)> = Vec::new();
        for p in &world.people {
            match people_by_profession
                .iter_mut()
                .find(|(prof, _)| *prof == p.profession)
            {
                Some((_, names)) => names.push(p.name.clone()),
                None => people_by_profession.push((p.profession.clone(), vec![p.name.clone()])),
            }
        }
        let distinct = |values: Vec<String>| {
            let mut seen = HashSet::new();
            values
                .into_iter()
                .filter(|v| seen.insert(v.clone()))
                .collect::<Vec<_>>()
        };
        Pools {
            people_by_profession,
            cities: world.cities.clone(),
            kingdoms: world.monarchs.iter().map(|m| m.kingdom.clone()).collect(),
            monarchs: world.monarchs.iter().map(|m| m.name.clone()).collect(),
            foods: distinct(world.species.iter().map(|s| s.food.clone()).collect()),
            places: distinct(world.species.iter().map(|s| s.place.clone()).collect()),
            years: (world.config.first_year, world.config.last_year),
            eruptions: world
                .volcanoes
                .iter()
                .flat_map(|v| v.eruptions.iter().map(|(y, _)| (v.name.clone(), *y)))
                .collect(),
            protected,
        }
    }

    /// The world's cities.
    pub fn cities(&self) -> &[String] {
        &self.cities
    }

    pub fn is_protected(&self, fact: &Fact) -> bool {
        super::subjects(fact)
            .iter()
            .any(|s| self.protected.contains(s))
    }

    fn colleagues(&self, person: &str) -> Option<&[String]> {
        self.people_by_profession
            .iter()
            .find(|(_, names)| names.iter().any(|n| n == person))
            .map(|(_, names)| names.as_slice())
    }

    /// Another profession's name, for a false profession.
    fn other_profession(&self, profession: &str, rng: &mut impl Rng) -> Option<String> {
        let others: Vec<&String> = self
            .people_by_profession
            .iter()
            .map(|(p, _)| p)
            .filter(|p| *p != profession)
            .collect();
        others.choose(rng).map(|p| (*p).clone())
    }

    /// Like [`Pools::variant`], but a birth year moves by one to ten years instead of being
    /// drawn from the events' years (which no one in the world is born in, so such a variant
    /// can be told false without knowing the person). Used by the reading episodes' false
    /// checks; `variant` stays as it was so that built corpora stay reproducible.
    pub fn close_variant(&self, fact: &Fact, rng: &mut impl Rng) -> Option<Fact> {
        let variant = self.variant(fact, rng)?;
        let Fact::Born { person, year } = fact else {
            return Some(variant);
        };
        Some(Fact::Born {
            person: person.clone(),
            year: moved_year(*year, 10, rng),
        })
    }

    /// `fact` with one value replaced by another of its kind; `None` for kinds without a
    /// variant and for facts about protected subjects.
    pub fn variant(&self, fact: &Fact, rng: &mut impl Rng) -> Option<Fact> {
        use Fact::*;
        if self.is_protected(fact) {
            return None;
        }
        let other = |pool: &[String], not: &str, rng: &mut dyn rand::RngCore| -> Option<String> {
            let choices: Vec<&String> = pool.iter().filter(|v| *v != not).collect();
            choices.choose(rng).map(|v| (*v).clone())
        };
        let other_year = |year: u32, rng: &mut dyn rand::RngCore| loop {
            let y = rng.random_range(self.years.0..=self.years.1);
            if y != year {
                return y;
            }
        };
        let variant = match fact {
            Profession { person, profession } => Profession {
                person: person.clone(),
                profession: self.other_profession(profession, rng)?,
            },
            Home { person, city } => Home {
                person: person.clone(),
                city: other(&self.cities, city, rng)?,
            },
            Born { person, year } => Born {
                person: person.clone(),
                year: other_year(*year, rng),
            },
            Won {
                person,
                event,
                year,
            } => Won {
                person: other(self.colleagues(person)?, person, rng)?,
                event: event.clone(),
                year: *year,
            },
            RunnerUp {
                person,
                event,
                year,
            } => RunnerUp {
                person: other(self.colleagues(person)?, person, rng)?,
                event: event.clone(),
                year: *year,
            },
            Venue { event, year, city } => Venue {
                event: event.clone(),
                year: *year,
                city: other(&self.cities, city, rng)?,
            },
            Rules { person, kingdom } => Rules {
                person: other(&self.monarchs, person, rng)?,
                kingdom: kingdom.clone(),
            },
            Located { volcano, kingdom } => Located {
                volcano: volcano.clone(),
                kingdom: other(&self.kingdoms, kingdom, rng)?,
            },
            Headquarters { company, city } => Headquarters {
                company: company.clone(),
                city: other(&self.cities, city, rng)?,
            },
            Diet { species, food } => Diet {
                species: species.clone(),
                food: other(&self.foods, food, rng)?,
            },
            Habitat { species, place } => Habitat {
                species: species.clone(),
                place: other(&self.places, place, rng)?,
            },
            _ => return None,
        };
        (!self.is_protected(&variant)).then_some(variant)
    }

    /// Like [`Pools::variant`], and also for the kinds it has none for among the world's facts
    /// (`CorpusConfig::wider_variants`): another winning time, another author of the same
    /// profession, an eruption, last eruption, rename or kept name moved by one to thirty
    /// years. These are the headline kinds of the figure-work, event-date and corporate
    /// claims, which the reading episodes about known facts otherwise never cover. `None` for
    /// protected subjects and kinds the world has no facts of.
    pub fn wider_variant(&self, fact: &Fact, rng: &mut impl Rng) -> Option<Fact> {
        use Fact::*;
        if let Some(variant) = self.variant(fact, rng) {
            return Some(variant);
        }
        if self.is_protected(fact) {
            return None;
        }
        let variant = match fact {
            WinningTime {
                event,
                year,
                seconds,
            } => {
                let hundredths: u32 = seconds.strip_prefix("9.")?.parse().ok()?;
                let other = loop {
                    let h = rng.random_range(80..=99u32);
                    if h != hundredths {
                        break h;
                    }
                };
                WinningTime {
                    event: event.clone(),
                    year: *year,
                    seconds: format!("9.{other}"),
                }
            }
            Wrote {
                person,
                title,
                work,
            } => {
                let others: Vec<&String> = self
                    .colleagues(person)?
                    .iter()
                    .filter(|p| *p != person)
                    .collect();
                Wrote {
                    person: (*others.choose(rng)?).clone(),
                    title: title.clone(),
                    work: work.clone(),
                }
            }
            Erupted {
                volcano,
                year,
                deaths,
            } => {
                let year = (0..20)
                    .map(|_| moved_year(*year, 30, rng))
                    .find(|y| !self.eruptions.contains(&(volcano.clone(), *y)))?;
                Erupted {
                    volcano: volcano.clone(),
                    year,
                    deaths: *deaths,
                }
            }
            DormantSince { volcano, year } => DormantSince {
                volcano: volcano.clone(),
                year: moved_year(*year, 30, rng),
            },
            Renamed { old, new, year } => Renamed {
                old: old.clone(),
                new: new.clone(),
                year: moved_year(*year, 30, rng),
            },
            KeptName { company, year } => KeptName {
                company: company.clone(),
                year: moved_year(*year, 30, rng),
            },
            _ => return None,
        };
        (!self.is_protected(&variant)).then_some(variant)
    }
}

/// `year` moved by one to `max_shift` years, later or (where it can) earlier.
fn moved_year(year: u32, max_shift: u32, rng: &mut impl Rng) -> u32 {
    let shift = rng.random_range(1..=max_shift);
    if rng.random_bool(0.5) || year <= shift {
        year + shift
    } else {
        year - shift
    }
}
