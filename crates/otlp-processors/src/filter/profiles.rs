//! The `filter` processor on profiles: drops the profiles for which a `profiles.profile`
//! condition is true, then the scopes and resources left without profiles.
//!
//! A profile's attributes are read through the request's dictionary, which is left as it is:
//! entries only the dropped profiles used stay in it (as otelcol-contrib leaves them).

use otlp_ottl::{Item, Target};
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;

use super::{FilterError, FilterProcessor};

impl FilterProcessor {
    /// Drops matching profiles. Returns the number dropped.
    ///
    /// # Errors
    /// [`FilterError`] when a condition fails to evaluate and `error_mode` is `propagate`; the
    /// request should then be refused.
    pub fn process_profiles(
        &self,
        request: &mut ExportProfilesServiceRequest,
    ) -> Result<usize, FilterError> {
        if self.profile.is_empty() {
            return Ok(0);
        }
        let mut dropped = 0;
        let mut error = None;
        let dictionary = request.dictionary.as_ref();
        request.resource_profiles.retain_mut(|rp| {
            let resource = rp.resource.as_ref();
            rp.scope_profiles.retain_mut(|sp| {
                let scope = sp.scope.as_ref();
                sp.profiles.retain(|profile| {
                    let target = Target {
                        item: Item::Profile(profile, dictionary),
                        resource,
                        scope,
                    };
                    let drop = self.any(&self.profile, &target, &mut error);
                    dropped += usize::from(drop);
                    !drop
                });
                !sp.profiles.is_empty()
            });
            !rp.scope_profiles.is_empty()
        });
        error.map_or(Ok(dropped), Err)
    }
}
