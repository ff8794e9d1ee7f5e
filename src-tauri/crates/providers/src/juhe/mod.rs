//! stub
use crate::*;
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct JuheSettings {}
pub struct Juhe;
impl Juhe {
    pub fn new(_: JuheSettings, _: topup_core::Sensitive<String>) -> Result<Juhe, ProviderError> {
        Err(ProviderError::Unsupported("x"))
    }
}
#[async_trait::async_trait]
impl Provider for Juhe {
    fn id(&self) -> topup_core::ProviderId {
        todo!()
    }
    async fn submit(&self, _: &SubmitRequest) -> Outcome {
        todo!()
    }
    async fn query(&self, _: &QueryRequest) -> Outcome {
        todo!()
    }
    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
        todo!()
    }
    fn parse_callback(&self, _: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
        todo!()
    }
}
