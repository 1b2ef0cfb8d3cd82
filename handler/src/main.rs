//! The Lambda `bootstrap` for `provided.al2023`: configuration, clients, then the runtime loop.
//! All logic lives in the library.

use std::process::ExitCode;

use ebhook_handler::config::Config;
use ebhook_handler::handler::Handler;
use ebhook_handler::runtime::RuntimeApi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    ebhook_handler::logging::init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        build = option_env!("EBHOOK_BUILD_ID").unwrap_or("-"),
        "ebhook handler starting"
    );
    let api = match RuntimeApi::from_env() {
        Ok(api) => api,
        Err(e) => return failed("the Lambda Runtime API", &e),
    };
    let handler = match setup().await {
        Ok(handler) => handler,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            // Lambda shows this in the function's logs and in the invoke error.
            if let Err(report) = api.init_failed("Runtime.InvalidConfiguration", &e).await {
                tracing::error!(error = %report, "could not report the start-up error");
            }
            return ExitCode::FAILURE;
        }
    };
    let handler = &handler;
    // The secret is read while the runtime asks for the first event; the first request waits
    // for it through the store's lock if it is not there yet.
    let (_, result) = tokio::join!(
        handler.warm_up(),
        api.serve(|event| async move { handler.handle(&event).await })
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed("the runtime loop", &e),
    }
}

async fn setup() -> Result<Handler, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let sdk = ebhook_handler::sdk::lambda_sdk_config(ebhook_handler::http_client())
        .await
        .map_err(|e| e.to_string())?;
    Handler::new(config, &sdk).map_err(|e| e.to_string())
}

fn failed(what: &str, error: &dyn std::error::Error) -> ExitCode {
    tracing::error!(error = %error, "{what} failed; the function stops");
    ExitCode::FAILURE
}
