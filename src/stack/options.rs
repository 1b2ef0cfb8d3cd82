//! The options that become the stack's parameters (`--event-bus`, `--arch`, ...), checked the
//! way the template's parameters and AWS would check them, so that a bad value is a usage error
//! naming the option before anything is built or deployed.

use ebhook_handler::Provider;

use super::{
    FUNCTION_NAME_SUFFIX, MAX_ALARM_EMAILS, MAX_STACK_NAME_LEN, PARAM_ALARM_EMAILS,
    PARAM_ALARM_TOPIC_ARN, PARAM_ARCHITECTURE, PARAM_COMPLIANCE, PARAM_DEDUPE_WINDOW,
    PARAM_EVENT_BUS_NAME, PARAM_KMS_KEY_ARN, PARAM_LOG_RETENTION_DAYS, PARAM_MEMORY_SIZE,
    PARAM_PROVIDER, PARAM_PROVIDER_SCHEME, PARAM_PUBLIC_BASE_URL, PARAM_RESERVED_CONCURRENCY,
};
use crate::cli::{Arch, Compliance, StackArgs};

pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_MEMORY_SIZE: u32 = 128;
/// Lambda's memory range, in MB.
pub const MEMORY_SIZE_RANGE: std::ops::RangeInclusive<u32> = 128..=10240;
/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// How long `--dedupe` remembers a delivery unless `--dedupe-window` says: a day.
pub const DEFAULT_DEDUPE_WINDOW_SECONDS: u64 = 86_400;
/// The DedupeWindow parameter's range when dedupe is on: a minute (a shorter window would
/// forget a delivery before the provider's first retry) to a year.
pub const DEDUPE_WINDOW_RANGE: std::ops::RangeInclusive<u64> = 60..=31_536_000;
/// EventBridge bus names are at most this long.
const MAX_BUS_NAME_LEN: usize = 256;

/// The stack's settings besides its provider: what the options ask for. Each becomes one
/// parameter; the defaults are the template's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Forward to this existing bus (name, same account and region) instead of creating one.
    pub existing_bus: Option<String>,
    pub arch: Arch,
    pub log_retention_days: u32,
    pub reserved_concurrency: Option<u32>,
    /// In MB.
    pub memory_size: u32,
    /// `https://host[/prefix]` the provider calls when the function URL is behind a custom
    /// domain (Twilio signs the URL it called).
    pub public_base_url: Option<String>,
    /// How a provider described at `init` signs (the scheme flags, as query pairs).
    pub provider_scheme: Option<String>,
    pub compliance: Compliance,
    /// With [`Compliance::ControlTower`], an existing customer managed key (ARN) to use.
    pub kms_key: Option<String>,
    /// Seconds to remember each delivery for dedupe; `None` when dedupe is off.
    pub dedupe_window: Option<u64>,
    /// Addresses to subscribe to the alarm topic the stack creates (at most
    /// [`MAX_ALARM_EMAILS`]).
    pub alarm_emails: Vec<String>,
    /// An existing SNS topic (ARN) for the alarms, instead of e-mail addresses.
    pub alarm_topic: Option<String>,
}

impl Default for Settings {
    /// A new bus, x86_64, 30 days of logs, 128 MB, no reserved concurrency.
    fn default() -> Self {
        Self {
            existing_bus: None,
            arch: Arch::X86_64,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            reserved_concurrency: None,
            memory_size: DEFAULT_MEMORY_SIZE,
            public_base_url: None,
            provider_scheme: None,
            compliance: Compliance::None,
            kms_key: None,
            dedupe_window: None,
            alarm_emails: Vec::new(),
            alarm_topic: None,
        }
    }
}

impl From<&StackArgs> for Settings {
    /// The options as given; an empty `--event-bus` or `--public-base-url` means none.
    fn from(args: &StackArgs) -> Self {
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Self {
            existing_bus: non_empty(&args.event_bus),
            arch: args.arch,
            log_retention_days: args.log_retention_days,
            reserved_concurrency: args.reserved_concurrency,
            memory_size: args.memory_size,
            public_base_url: non_empty(&args.public_base_url),
            provider_scheme: args.scheme.description(),
            compliance: args.compliance,
            kms_key: non_empty(&args.kms_key),
            dedupe_window: args.dedupe.then(|| {
                args.dedupe_window
                    .map_or(DEFAULT_DEDUPE_WINDOW_SECONDS, |w| w.as_secs())
            }),
            alarm_emails: args.alarm_email.clone(),
            alarm_topic: non_empty(&args.alarm_topic),
        }
    }
}

impl Settings {
    /// Checks every setting, naming the option that is wrong.
    pub fn validate(&self) -> Result<(), OptionError> {
        if !LOG_RETENTION_DAYS.contains(&self.log_retention_days) {
            return Err(OptionError::LogRetention(self.log_retention_days));
        }
        if !MEMORY_SIZE_RANGE.contains(&self.memory_size) {
            return Err(OptionError::MemorySize(self.memory_size));
        }
        if self.reserved_concurrency == Some(0) {
            return Err(OptionError::ReservedConcurrency);
        }
        if let Some(name) = &self.existing_bus {
            check_bus_name(name).map_err(|reason| OptionError::EventBus {
                name: name.clone(),
                reason,
            })?;
        }
        if let Some(window) = self.dedupe_window
            && !DEDUPE_WINDOW_RANGE.contains(&window)
        {
            return Err(OptionError::DedupeWindow(window));
        }
        if let Some(url) = &self.public_base_url {
            check_public_base_url(url).map_err(|reason| OptionError::PublicBaseUrl {
                url: url.clone(),
                reason,
            })?;
        }
        if let Some(arn) = &self.kms_key {
            if self.compliance != Compliance::ControlTower {
                return Err(OptionError::KmsKeyWithoutCompliance);
            }
            check_kms_key_arn(arn).map_err(|reason| OptionError::KmsKey {
                arn: arn.clone(),
                reason,
            })?;
        }
        self.validate_alarms()
    }

    /// `--alarm-email` (each an address, at most [`MAX_ALARM_EMAILS`], no repeats) or
    /// `--alarm-topic` (a topic's ARN), not both.
    fn validate_alarms(&self) -> Result<(), OptionError> {
        if let Some(arn) = &self.alarm_topic {
            if !self.alarm_emails.is_empty() {
                return Err(OptionError::AlarmEmailWithTopic);
            }
            check_topic_arn(arn).map_err(|reason| OptionError::AlarmTopic {
                arn: arn.clone(),
                reason,
            })?;
        }
        if self.alarm_emails.len() > MAX_ALARM_EMAILS {
            return Err(OptionError::TooManyAlarmEmails(self.alarm_emails.len()));
        }
        for (i, address) in self.alarm_emails.iter().enumerate() {
            check_email(address).map_err(|reason| OptionError::AlarmEmail {
                address: address.clone(),
                reason,
            })?;
            // SNS subscribes an address to a topic once however often it is asked, so removing
            // either of two subscription resources would unsubscribe it.
            if self.alarm_emails[..i]
                .iter()
                .any(|earlier| earlier.eq_ignore_ascii_case(address))
            {
                return Err(OptionError::RepeatedAlarmEmail(address.clone()));
            }
        }
        Ok(())
    }

    /// `provider` with the description of how it signs, checked: a provider described at
    /// `init` needs one, and the others take none.
    pub fn described(&self, provider: Provider) -> Result<Provider, OptionError> {
        provider
            .configure(self.provider_scheme.as_deref())
            .map_err(OptionError::Scheme)
    }

    /// The stack's parameters for these settings and `provider`: every parameter but the
    /// code's location and the secret.
    pub fn parameters(&self, provider: Provider) -> Vec<(&'static str, String)> {
        let mut parameters = vec![(PARAM_PROVIDER, provider.as_str().to_owned())];
        parameters.extend(self.setting_parameters());
        parameters
    }

    /// What to give `aws cloudformation deploy --parameter-overrides` for these settings (and
    /// the provider, if known): the parameters whose value is not the template's default.
    pub fn overrides(&self, provider: Option<Provider>) -> Vec<(&'static str, String)> {
        let defaults = Settings::default().setting_parameters();
        provider
            .map(|p| (PARAM_PROVIDER, p.as_str().to_owned()))
            .into_iter()
            .chain(
                self.setting_parameters()
                    .into_iter()
                    .filter(|parameter| !defaults.contains(parameter)),
            )
            .collect()
    }

    fn setting_parameters(&self) -> [(&'static str, String); 14] {
        let email = |i: usize| self.alarm_emails.get(i).cloned().unwrap_or_default();
        [
            (
                PARAM_PROVIDER_SCHEME,
                self.provider_scheme.clone().unwrap_or_default(),
            ),
            (
                PARAM_EVENT_BUS_NAME,
                self.existing_bus.clone().unwrap_or_default(),
            ),
            (
                PARAM_RESERVED_CONCURRENCY,
                self.reserved_concurrency.unwrap_or(0).to_string(),
            ),
            (PARAM_ARCHITECTURE, self.arch.lambda_name().to_owned()),
            (
                PARAM_LOG_RETENTION_DAYS,
                self.log_retention_days.to_string(),
            ),
            (PARAM_MEMORY_SIZE, self.memory_size.to_string()),
            (
                PARAM_PUBLIC_BASE_URL,
                self.public_base_url.clone().unwrap_or_default(),
            ),
            (
                PARAM_COMPLIANCE,
                self.compliance.parameter_value().to_owned(),
            ),
            (PARAM_KMS_KEY_ARN, self.kms_key.clone().unwrap_or_default()),
            (
                PARAM_DEDUPE_WINDOW,
                self.dedupe_window.unwrap_or(0).to_string(),
            ),
            (
                PARAM_ALARM_TOPIC_ARN,
                self.alarm_topic.clone().unwrap_or_default(),
            ),
            (PARAM_ALARM_EMAILS[0], email(0)),
            (PARAM_ALARM_EMAILS[1], email(1)),
            (PARAM_ALARM_EMAILS[2], email(2)),
        ]
    }
}

/// A stack option ebhook cannot use, named as the person typed it.
#[derive(Debug, thiserror::Error)]
pub enum OptionError {
    #[error(
        "--log-retention-days {0} is not a retention CloudWatch Logs allows: use one of 1, 3, 5, \
         7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, \
         3288, 3653"
    )]
    LogRetention(u32),
    #[error("--memory-size {0} is out of range: Lambda allows 128 to 10240 (MB)")]
    MemorySize(u32),
    #[error(
        "--reserved-concurrency 0 would stop every delivery: reserve at least 1, or leave the \
         option out"
    )]
    ReservedConcurrency,
    #[error("--event-bus {name:?} is not an event bus name ebhook can use: {reason}")]
    EventBus { name: String, reason: &'static str },
    #[error(
        "--dedupe-window of {0} s is out of range: remember deliveries for 1m to 365d (e.g. 24h), \
         or leave out --dedupe"
    )]
    DedupeWindow(u64),
    #[error("--public-base-url {url:?} is not valid: {reason}")]
    PublicBaseUrl { url: String, reason: &'static str },
    #[error(
        "{0}; the --signature-*, --token-header, --basic-auth, --event-type and --delivery-id options describe it"
    )]
    Scheme(String),
    #[error(
        "--kms-key is the key of --compliance control-tower: add --compliance control-tower, or \
         leave --kms-key out"
    )]
    KmsKeyWithoutCompliance,
    #[error("--kms-key {arn:?} is not a KMS key ARN ebhook can use: {reason}")]
    KmsKey { arn: String, reason: &'static str },
    #[error(
        "--alarm-email was given {0} times, and the stack takes at most {MAX_ALARM_EMAILS} addresses: use a \
         mailing-list address, or subscribe everyone to an SNS topic of yours and give \
         --alarm-topic ARN instead"
    )]
    TooManyAlarmEmails(usize),
    #[error("--alarm-email {address:?} is not an e-mail address SNS can use: {reason}")]
    AlarmEmail {
        address: String,
        reason: &'static str,
    },
    #[error("--alarm-email {0:?} is given twice: give each address once")]
    RepeatedAlarmEmail(String),
    #[error(
        "--alarm-email subscribes addresses to a topic the stack creates, and --alarm-topic uses \
         your topic instead: subscribe the addresses to your topic (aws sns subscribe --protocol \
         email) and keep --alarm-topic alone, or leave --alarm-topic out"
    )]
    AlarmEmailWithTopic,
    #[error("--alarm-topic {arn:?} is not an SNS topic ARN ebhook can use: {reason}")]
    AlarmTopic { arn: String, reason: &'static str },
    #[error("stack name {name:?} cannot be used: {reason}; choose another --stack-name")]
    StackName { name: String, reason: String },
}

/// EventBridge: 1-256 of `[.\-_A-Za-z0-9]`; `/` only in partner buses, which ebhook does not put
/// events on. `default` (the account's default bus) is an existing bus and so is allowed here.
fn check_bus_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.starts_with("arn:") {
        return Err(
            "give the bus's name, not its ARN (the bus must be in the stack's account and region)",
        );
    }
    if name.len() > MAX_BUS_NAME_LEN {
        return Err("event bus names are at most 256 characters");
    }
    if name.contains('/') {
        return Err(
            "ebhook forwards to custom event buses (or `default`), whose names have no `/`",
        );
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("event bus names have only letters, digits, `.`, `-` and `_`");
    }
    Ok(())
}

/// The KmsKeyArn parameter's AllowedPattern: `arn:<partition>:kms:<region>:<account>:key/<id>`.
fn check_kms_key_arn(arn: &str) -> Result<(), &'static str> {
    const EXAMPLE: &str = "give the key's ARN, arn:aws:kms:REGION:ACCOUNT:key/ID (not an alias)";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, resource] = parts[..] else {
        return Err(EXAMPLE);
    };
    let lower_or = |s: &str, extra: char| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
    };
    let ok = arn_word == "arn"
        && partition
            .strip_prefix("aws")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        && service == "kms"
        && !region.is_empty()
        && lower_or(region, '-')
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource.strip_prefix("key/").is_some_and(|id| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok { Ok(()) } else { Err(EXAMPLE) }
}

/// The AlarmTopicArn parameter's AllowedPattern: `arn:<partition>:sns:<region>:<account>:<name>`
/// of a standard topic: a FIFO topic takes only messages with a group id, which an alarm's
/// notification has not.
fn check_topic_arn(arn: &str) -> Result<(), &'static str> {
    const EXAMPLE: &str =
        "give the topic's ARN, arn:aws:sns:REGION:ACCOUNT:NAME (aws sns list-topics lists them)";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, name] = parts[..] else {
        return Err(EXAMPLE);
    };
    if name.ends_with(".fifo") {
        return Err(
            "a FIFO topic takes only messages with a group id, which CloudWatch's alarm \
             notifications have not: give a standard topic",
        );
    }
    let ok = arn_word == "arn"
        && partition
            .strip_prefix("aws")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        && service == "sns"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(EXAMPLE) }
}

/// The AlarmEmail parameters' AllowedPattern (text, one `@`, text; no spaces), and the longest
/// address mail allows.
fn check_email(address: &str) -> Result<(), &'static str> {
    if address.len() > 254 {
        return Err("addresses are at most 254 characters");
    }
    if address.chars().any(char::is_whitespace) {
        return Err("it has a space in it");
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => Err("give one address like ops@example.com"),
    }
}

/// The same rule as the PublicBaseUrl parameter's AllowedPattern, which the handler also accepts.
fn check_public_base_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("it must start with https:// (or http://)")?;
    if rest
        .chars()
        .any(|c| c.is_whitespace() || c == '?' || c == '#')
    {
        return Err("it must have no spaces, query (?) or fragment (#)");
    }
    if rest.split('/').next().unwrap_or_default().is_empty() {
        return Err("it has no host");
    }
    Ok(())
}

/// Checks that a stack of this name can be deployed with `settings`: the function is named
/// after the stack, and so is the bus the stack creates.
pub fn check_stack_name(name: &str, settings: &Settings) -> Result<(), OptionError> {
    let problem = |reason: String| OptionError::StackName {
        name: name.to_owned(),
        reason,
    };
    if name.len() > MAX_STACK_NAME_LEN {
        return Err(problem(format!(
            "at most {MAX_STACK_NAME_LEN} characters (the function is named <stack>{FUNCTION_NAME_SUFFIX})"
        )));
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(problem(
            "stack names start with a letter and have only letters, digits and `-`".to_owned(),
        ));
    }
    if settings.existing_bus.is_none() && name == "default" {
        return Err(problem(
            "the stack creates a bus named after itself, and `default` is the account's default bus"
                .to_owned(),
        ));
    }
    Ok(())
}
