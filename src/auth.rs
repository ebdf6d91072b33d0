//! Who is calling: passwords (argon2), bearer tokens (random, stored hashed) and the
//! principal a token stands for.

use crate::domain::{ConversationId, CustomerId, Staff};
use crate::store::{accounts, conversations, Store, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// Why a caller could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer token is required (Authorization: Bearer … or ?token=…)")]
    MissingToken,
    #[error("the token is unknown, expired or revoked: log in again")]
    InvalidToken,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("the token's owner no longer exists")]
    OwnerGone,
    #[error("this account is disabled: ask an admin to enable it")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Staff(Box<accounts::UserView>),
    /// A customer, bound to their latest conversation.
    Customer {
        customer: CustomerId,
        conversation: ConversationId,
    },
}

impl Principal {
    /// The staff facts, when the caller is staff.
    pub fn staff(&self) -> Option<Staff> {
        match self {
            Principal::Staff(user) => Some(user.staff()),
            Principal::Customer { .. } => None,
        }
    }
}

/// A checked token: whom it stands for, its stored hash and when it lapses.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub token_hash: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

/// Hashes a password for storage (argon2id with a random salt).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS provides randomness");
    bytes
}

/// A new random token (shown once to its owner) and the hash that is stored.
pub fn new_token() -> (String, String) {
    let token = hex(&random_bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

/// A new random secret for signing contact identities, as hex.
pub fn new_identity_secret() -> String {
    hex(&random_bytes::<32>())
}

/// The signature a team's site gives a contact's external id: HMAC-SHA256 with the team's
/// identity secret, as hex (what the widget passes along as `signature`).
pub fn contact_signature(secret: &str, external_id: &str) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(external_id.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether `signature` is the team's signature of `external_id` (compared in constant time).
pub fn contact_signature_valid(secret: &str, external_id: &str, signature: &str) -> bool {
    use hmac::Mac;
    let Some(given) = unhex(signature.trim()) else {
        return false;
    };
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(external_id.as_bytes());
    mac.verify_slice(&given).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// digests are compared, every byte of them).
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Resolves a bearer token to its principal, refusing unknown, expired and revoked tokens.
pub async fn authenticate(store: &Store, token: &str) -> Result<Authenticated, AuthError> {
    let hash = token_hash(token);
    let token_hash = hash.clone();
    let (principal, expires_at) = store
        .run(move |conn| {
            let Some(row) = accounts::token_by_hash(conn, &hash)? else {
                return Ok(Err(AuthError::InvalidToken));
            };
            if row.revoked || row.expires_at <= crate::store::now_millis() {
                return Ok(Err(AuthError::InvalidToken));
            }
            if let Some(user) = &row.user_id {
                return Ok(match accounts::user_by_id(conn, user)? {
                    // Disabling revokes the user's tokens too; this holds even for one
                    // issued while the change was being made.
                    Some(user) if user.disabled => Err(AuthError::Disabled),
                    Some(user) => Ok((Principal::Staff(Box::new(user)), row.expires_at)),
                    None => Err(AuthError::OwnerGone),
                });
            }
            let Some(customer) = &row.customer_id else {
                return Ok(Err(AuthError::InvalidToken));
            };
            let customer: CustomerId = accounts::parse_id(customer)?;
            Ok(match conversations::latest_of_customer(conn, customer)? {
                Some(conversation) => Ok((
                    Principal::Customer {
                        customer,
                        conversation,
                    },
                    row.expires_at,
                )),
                None => Err(AuthError::OwnerGone),
            })
        })
        .await??;
    Ok(Authenticated {
        principal,
        token_hash,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_signature_is_the_hmac_of_the_external_id_with_the_teams_secret() {
        // RFC 4231, test case 2.
        assert_eq!(
            contact_signature("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let signature = contact_signature("s3cret", "customer-42");
        assert!(contact_signature_valid("s3cret", "customer-42", &signature));
        assert!(contact_signature_valid(
            "s3cret",
            "customer-42",
            &signature.to_uppercase()
        ));
        assert!(!contact_signature_valid(
            "s3cret",
            "customer-43",
            &signature
        ));
        assert!(!contact_signature_valid("other", "customer-42", &signature));
        for bad in ["", "zz", "abc", &signature[..10]] {
            assert!(
                !contact_signature_valid("s3cret", "customer-42", bad),
                "{bad}"
            );
        }
    }
}
