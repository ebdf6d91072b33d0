//! Unit tests of the knowledge base: what an article must have, and which articles a waiting
//! customer is shown.

use super::*;
use crate::article::{ArticleDraft, Suggestion, MAX_BODY_BYTES, MAX_SUGGESTIONS};

fn draft(title: &str, body: &str, url: &str) -> ArticleDraft {
    ArticleDraft {
        title: title.into(),
        body: body.into(),
        url: url.into(),
    }
}

fn article(title: &str) -> Suggestion {
    Suggestion {
        article: ArticleId::generate(),
        title: title.into(),
        url: format!("https://help.example.com/{}", title.to_lowercase()),
    }
}

/// A reply of the room's customer, recorded next.
fn customer_reply(room: &Room, body: &str) -> Event {
    Event {
        author: Author::Customer(room.customer),
        ..recorded(
            room.id,
            room.last_seq + 1,
            EventKind::Reply(Message::text(body)),
        )
    }
}

#[test]
fn an_article_needs_a_title_some_text_and_a_web_address() {
    let url = "https://help.example.com/reset";
    assert_eq!(
        draft("Reset your password", "Open Settings", url).check(),
        Ok(())
    );
    for bad in [
        draft(" ", "Open Settings", url),
        draft(&"t".repeat(201), "Open Settings", url),
        draft("Reset", "  ", url),
        draft("Reset", &"b".repeat(MAX_BODY_BYTES + 1), url),
        draft("Reset", "Open Settings", "javascript:alert(1)"),
        draft("Reset", "Open Settings", "https://help.example.com/a b"),
    ] {
        assert_eq!(bad.check(), Err(RuleError::InvalidArticle), "{bad:?}");
    }
}

#[test]
fn only_what_the_customer_writes_while_waiting_is_looked_up() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let waiting = waiting_room(team, false);
    let asked = customer_reply(&waiting, "my password reset mail never came");
    assert_eq!(
        waiting.suggestion_text(&asked),
        Some("my password reset mail never came")
    );
    let by_staff = recorded(waiting.id, 2, EventKind::Note(Message::text("password?")));
    assert_eq!(
        waiting.suggestion_text(&by_staff),
        None,
        "staff write no questions"
    );
    let active = room_with(team, false, &[(&lead, Mode::Lead)]);
    let later = customer_reply(&active, "password reset");
    assert_eq!(active.suggestion_text(&later), None, "an agent answers now");
}

#[test]
fn up_to_three_articles_are_suggested_each_only_once_and_the_customer_sees_them() {
    let team = TeamId::generate();
    let mut room = waiting_room(team, false);
    let found: Vec<Suggestion> = ["Reset", "Login", "Billing", "Refunds"]
        .into_iter()
        .map(article)
        .collect();
    let first = room.suggest(found.clone()).expect("a suggestion");
    assert_eq!(
        first,
        EventKind::Suggested {
            articles: found[..MAX_SUGGESTIONS].to_vec()
        }
    );
    assert_eq!(first.customer_view(), Some(first.clone()));
    apply_all(&mut room, &[first]);
    let mut again = found.clone();
    again.insert(0, found[0].clone());
    assert_eq!(
        room.suggest(again),
        Some(EventKind::Suggested {
            articles: vec![found[3].clone()]
        }),
        "only the one not shown yet"
    );
    assert_eq!(room.suggest(found[..3].to_vec()), None, "nothing new");
    assert_eq!(room.suggest(Vec::new()), None);
    let lead = staff(Role::Agent, &[team], &[]);
    let events = room.pick_up(&lead).unwrap();
    apply_all(&mut room, &events);
    assert_eq!(
        room.suggest(vec![article("Shipping")]),
        None,
        "not once taken"
    );
}
