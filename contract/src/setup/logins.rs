//! The logins of a run, from `--auth-login` and its companions, else from the config file:
//! at most two, the second identity last.

use openapi::login::{DEFAULT_HEADER, DEFAULT_TOKEN, Login};

use super::SetupError;
use super::config::Config;

/// What the command line says of logins; a login flag's body pairs with it by position.
#[derive(Debug, Default)]
pub struct LoginFlags<'a> {
    pub logins: &'a [String],
    pub bodies: &'a [String],
    pub token: Option<&'a str>,
    pub header: Option<&'a str>,
}

/// The logins from the flags, else from the config file.
pub fn logins(flags: &LoginFlags<'_>, config: &Config) -> Result<Vec<Login>, SetupError> {
    if flags.logins.len() > 2 || flags.bodies.len() > flags.logins.len().max(1) {
        return Err(SetupError::TooManyLogins);
    }
    let count = match flags.logins.is_empty() {
        true => config.auth.len(),
        false => flags.logins.len(),
    };
    (0..count)
        .map(|at| {
            let from_config = config.auth.get(at);
            let operation = flags
                .logins
                .get(at)
                .map(String::as_str)
                .or(from_config.map(|a| a.login.as_str()))
                .unwrap_or_default();
            let body = match flags.bodies.get(at) {
                Some(body) => serde_json::from_str(body).map_err(|e| SetupError::LoginBody {
                    body: body.clone(),
                    why: e.to_string(),
                })?,
                None => from_config
                    .map(|a| a.body.clone())
                    .unwrap_or(serde_json::Value::Null),
            };
            let token = flags
                .token
                .or(from_config.and_then(|a| a.token.as_deref()))
                .unwrap_or(DEFAULT_TOKEN);
            let header = flags
                .header
                .or(from_config.and_then(|a| a.header.as_deref()))
                .unwrap_or(DEFAULT_HEADER);
            Ok(Login::parse(operation, body, token)?.with_header(header)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_before_the_config_and_are_checked() {
        let config: Config = yaml_serde::from_str(
            "auth: [{login: POST /a, body: {u: 1}}, {login: POST /b, token: /t}]",
        )
        .unwrap();
        let from_config = logins(&LoginFlags::default(), &config).unwrap();
        assert_eq!(
            from_config
                .iter()
                .map(|l| l.path.as_str())
                .collect::<Vec<_>>(),
            ["/a", "/b"]
        );
        assert_eq!(from_config[1].token_pointer, "/t");
        let given = ["POST /login".to_owned()];
        let bodies = ["{not json".to_owned()];
        let flags = LoginFlags {
            logins: &given,
            bodies: &bodies,
            ..LoginFlags::default()
        };
        let error = logins(&flags, &config).unwrap_err().to_string();
        assert!(error.contains("--auth-body"), "{error}");
        let three = [
            "POST /a".to_owned(),
            "POST /b".to_owned(),
            "POST /c".to_owned(),
        ];
        let flags = LoginFlags {
            logins: &three,
            ..LoginFlags::default()
        };
        assert!(matches!(
            logins(&flags, &config),
            Err(SetupError::TooManyLogins)
        ));
    }
}
