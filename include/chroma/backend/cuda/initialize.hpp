#pragma once
// PyTorch's default initialisation for parameters on the GPU, so that Model<Net, cuda>(seed)
// works and starts from exactly the values Model<Net, cpu>(seed) does: each parameter is
// initialised on the host from the same random sequence, then copied to the device.
//
// init::pytorch_default calls this overload by unqualified name, so it must be declared before
// <chroma/init/pytorch_default.hpp> is first included; all.cuh includes it first. (Included
// later, the generic version's static_assert says to initialise on the host.)
#include "../../core/parameter.hpp"
#include "../../core/random.hpp"
#include "cuda.hpp"

namespace chroma::init {

template <class T>
void pytorch_default(Parameter<T, cuda>& p, Rng& rng);

}  // namespace chroma::init

#include "../../init/pytorch_default.hpp"
#include "transfer.hpp"

namespace chroma::init {

template <class T>
void pytorch_default(Parameter<T, cuda>& p, Rng& rng) {
    if (p.role == parameter_role::statistic) return;  // statistics keep what their layer set
    Parameter<T, cpu> host = Parameter<T, cpu>::make(p.value.shape(), parameter_role::statistic, p.fan_in,
                                                     p.fan_out, p.rank);
    host.role = p.role;  // made as a statistic only to skip allocating a gradient
    pytorch_default(host, rng);
    transfer(host.value, p.value);
}

}  // namespace chroma::init
