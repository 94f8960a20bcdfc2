"""The comb model of packages/train/src/model.ts and the loss of packages/train/src/loss.ts in PyTorch.

Writes the fixtures that packages/train/test/reference.test.ts compares our model against: for each case
(a tiny config), seeded weights and inputs, the forward outputs, the loss, the gradient of every trained
variable, the batch-norm running statistics after the step and an inference-mode forward pass; for two
cases also the losses and weights of a few Adam steps.

    python3 bench/reference/comb_reference.py        # needs torch (CPU is enough), nothing else

Everything is computed in float64 from float32 weights and inputs, so the saved figures are the exact
answer to float32 rounding; the test's tolerances then measure only our float32 arithmetic.

Tensors are stored in our (tfjs) layouts: images NHWC, conv filters [k, k, in, out], dense [in, out].
The functions below take them in those layouts and permute to PyTorch's NCHW / OIHW inside.
"""
import json
import math
import os
import re
import sys
from array import array

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures')
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
C1 = 0.01 ** 2
C2 = 0.03 ** 2
EPS = 1e-6
MS_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]

# Each case: train stage params (resolveConfig takes them as they are, identities ['a', 'b']), the level and
# fade alpha of the step, the decoder it trains and the batch size. Together they cover every placement of
# batch norm, the three activations, the fade-in on both sides, SSIM, MS-SSIM, L1 and the detail term.
# `steps`: that many training steps (torch.optim.Adam, as train's adam.ts) on the same batch after the first
# gradients: the loss of each and the weights after the last are saved too.
CASES = [
    dict(name='fade-bn-both-leaky', identity=1, resolution=16, alpha=0.375, batch=2, steps=3,
         params=dict(resolution=16, startResolution=8, channels={'4': 8, '8': 6, '16': 4}, latent=12, lr=1e-3,
                     batchNorm='both', activation='leaky_relu', leak=0.2,
                     loss=dict(l1=1, ssim=1, msssim=False, window=5, detail=0.5))),
    dict(name='stable-msssim-leaky', identity=0, resolution=16, alpha=1, batch=2, steps=3,
         params=dict(resolution=16, startResolution=16, channels={'4': 8, '8': 6, '16': 4}, latent=12, lr=1e-3,
                     batchNorm='none', activation='leaky_relu', leak=0.1,
                     loss=dict(l1=0.5, ssim=1, msssim=16, window=7, detail=0))),
    dict(name='bn-encoder-elu', identity=0, resolution=8, alpha=1, batch=3,
         params=dict(resolution=8, startResolution=8, channels={'4': 6, '8': 5}, latent=10,
                     batchNorm='encoder', activation='elu',
                     loss=dict(l1=1, ssim=2, msssim=False, window=3, detail=0.25))),
    dict(name='bn-decoder-relu', identity=1, resolution=8, alpha=1, batch=2,
         params=dict(resolution=8, startResolution=8, channels={'4': 6, '8': 5}, latent=10,
                     batchNorm='decoder', activation='relu',
                     loss=dict(l1=2, ssim=1, msssim=False, window=3, detail=0))),
]


class Plan:
    """The variables model.ts's build(r) creates for one decoder, and the ones a step at (r, alpha) trains."""

    def __init__(self, case):
        p = case['params']
        self.p = p
        self.r = case['resolution']
        self.alpha = case['alpha']
        self.i = case['identity']
        self.start = p['startResolution']
        self.latent = p['latent']
        self.leak = p.get('leak', 0.2)
        self.act_name = p.get('activation', 'leaky_relu')
        bn = p.get('batchNorm', 'none')
        self.bn_enc = bn in ('encoder', 'both')
        self.bn_dec = bn in ('decoder', 'both')
        self.params = {}  # name -> (shape, kind, fan_in)
        self.buffers = {}  # name -> shape
        self.build()

    def ch(self, r):
        return self.p['channels'][str(r)]

    def fading(self):
        return self.alpha < 1 and self.r > self.start

    def conv(self, name, k, cin, cout, bn):
        self.params[f'{name}.w'] = ([k, k, cin, cout], 'weight', k * k * cin)
        self.params[f'{name}.b'] = ([cout], 'bias', 1)
        if bn:
            self.params[f'{name}.bn.gamma'] = ([cout], 'gamma', 1)
            self.params[f'{name}.bn.beta'] = ([cout], 'bias', 1)
            self.buffers[f'{name}.bn.mean'] = [cout]
            self.buffers[f'{name}.bn.var'] = [cout]

    def build(self):
        r, c4, d = self.r, self.ch(4), f'dec{self.i}'
        self.conv('enc.final.conv', 3, c4, c4, False)
        self.conv('enc.final.dense', 4, c4, self.latent, False)
        self.params[f'{d}.dense.w'] = ([self.latent, 16 * c4], 'weight', self.latent)
        self.params[f'{d}.dense.b'] = ([16 * c4], 'bias', 1)
        self.conv(f'{d}.base.conv', 3, c4, c4, False)
        # the r/2 fromRGB/toRGB exist from build(r) on but only a fading step trains (and reads) them
        for res in ([r // 2, r] if self.fading() else [r]):
            self.conv(f'enc.fromRGB.{res}', 1, 3, self.ch(res), False)
            self.conv(f'{d}.toRGB.{res}', 1, self.ch(res), 3, False)
        s = 8
        while s <= r:
            self.conv(f'enc.{s}.conv1', 3, self.ch(s), self.ch(s), self.bn_enc)
            self.conv(f'enc.{s}.conv2', 3, self.ch(s), self.ch(s // 2), self.bn_enc)
            self.conv(f'{d}.{s}.conv1', 3, self.ch(s // 2), self.ch(s), self.bn_dec)
            self.conv(f'{d}.{s}.conv2', 3, self.ch(s), self.ch(s), self.bn_dec)
            s *= 2


def uniform(g, shape, lo, hi):
    return (torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo)


def init_values(plan, g):
    """Seeded float32 values for every variable: weights He-uniform scaled, biases, gamma and beta non-trivial."""
    params, buffers = {}, {}
    for name in sorted(plan.params):
        shape, kind, fan_in = plan.params[name]
        if kind == 'weight':
            b = math.sqrt(6 / fan_in)
            params[name] = uniform(g, shape, -b, b)
        elif kind == 'gamma':
            params[name] = uniform(g, shape, 0.7, 1.3)
        else:
            params[name] = uniform(g, shape, -0.2, 0.2)
    for name in sorted(plan.buffers):
        lo, hi = (-0.3, 0.3) if name.endswith('.mean') else (0.5, 2.0)
        buffers[name] = uniform(g, plan.buffers[name], lo, hi)
    return params, buffers


def soft_mask(b, r):
    """A soft elliptic face mask per sample [B, r, r, 1]: 1 inside, 0 outside, a ramp between."""
    ys = (torch.arange(r, dtype=torch.float32) + 0.5) / r - 0.5
    out = []
    for k in range(b):
        rx, ry = 0.36 - 0.03 * k, 0.42
        d = torch.sqrt((ys[None, :] / rx) ** 2 + (ys[:, None] / ry) ** 2)
        out.append(torch.clamp((1.15 - d) / 0.3, 0, 1))
    return torch.stack(out)[..., None]


class Model:
    """Forward pass of model.ts on NHWC tensors (weights in our layouts), batch norm as ours (biased variance)."""

    def __init__(self, plan, params, buffers, training):
        self.plan, self.w, self.buf, self.training = plan, params, buffers, training
        self.stats = {}  # name -> (mean, biased variance) of a training pass

    def act(self, x):
        if self.plan.act_name == 'relu':
            return F.relu(x)
        if self.plan.act_name == 'elu':
            return F.elu(x)
        return F.leaky_relu(x, self.plan.leak)

    def conv(self, x, name, pad='same'):
        w = self.w[f'{name}.w']
        k = w.shape[0]
        y = F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), self.w[f'{name}.b'],
                     padding=(k - 1) // 2 if pad == 'same' else 0)
        return y.permute(0, 2, 3, 1)

    def bn(self, x, name):
        gamma, beta = self.w[f'{name}.bn.gamma'], self.w[f'{name}.bn.beta']
        if self.training:
            mean = x.mean(dim=(0, 1, 2))
            var = ((x - mean) ** 2).mean(dim=(0, 1, 2))
            self.stats[name] = (mean.detach(), var.detach())
        else:
            mean, var = self.buf[f'{name}.bn.mean'], self.buf[f'{name}.bn.var']
        return (x - mean) / torch.sqrt(var + BN_EPS) * gamma + beta

    def conv_act(self, x, name, bn, pad='same'):
        h = self.conv(x, name, pad)
        if bn:
            h = self.bn(h, name)
        return self.act(h)

    @staticmethod
    def pool(x):
        return F.avg_pool2d(x.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)

    @staticmethod
    def up(x):
        return F.interpolate(x.permute(0, 3, 1, 2), scale_factor=2, mode='nearest').permute(0, 2, 3, 1)

    def blend(self, a, b):
        a_ = self.plan.alpha
        return a * a_ + b * (1 - a_)

    def enc_block(self, h, r):
        bn = self.plan.bn_enc
        h = self.conv_act(h, f'enc.{r}.conv1', bn)
        h = self.conv_act(h, f'enc.{r}.conv2', bn)
        return self.pool(h)

    def dec_block(self, h, r):
        d, bn = f'dec{self.plan.i}', self.plan.bn_dec
        h = self.up(h)
        h = self.conv_act(h, f'{d}.{r}.conv1', bn)
        return self.conv_act(h, f'{d}.{r}.conv2', bn)

    def encode(self, x):
        r = x.shape[1]
        h = self.conv_act(x, f'enc.fromRGB.{r}', False)
        if r > 4:
            h = self.enc_block(h, r)
        if self.plan.fading():
            h = self.blend(h, self.conv_act(self.pool(x), f'enc.fromRGB.{r // 2}', False))
        s = r // 2
        while s >= 8:
            h = self.enc_block(h, s)
            s //= 2
        h = self.conv_act(h, 'enc.final.conv', False)
        h = self.conv_act(h, 'enc.final.dense', False, 'valid')
        return h.reshape(h.shape[0], self.plan.latent)

    def decode(self, z):
        d, r, c4 = f'dec{self.plan.i}', self.plan.r, self.plan.ch(4)
        h = z @ self.w[f'{d}.dense.w'] + self.w[f'{d}.dense.b']
        x = self.act(h.reshape(z.shape[0], 4, 4, c4))
        x = self.conv_act(x, f'{d}.base.conv', False)
        s = 8
        while s < r:
            x = self.dec_block(x, s)
            s *= 2
        old = None
        if self.plan.fading():
            old = self.up(torch.sigmoid(self.conv(x, f'{d}.toRGB.{r // 2}')))
        if r > 4:
            x = self.dec_block(x, r)
        y = torch.sigmoid(self.conv(x, f'{d}.toRGB.{r}'))
        return self.blend(y, old) if old is not None else y


def box(t, win):
    return F.avg_pool2d(t.permute(0, 3, 1, 2), win, 1).permute(0, 2, 3, 1)


def masked_mean(m, w):
    return (m * w).sum() / (w.sum() * m.shape[3] + EPS)


def ssim_parts(a, b, win):
    ma, mb = box(a, win), box(b, win)
    va = box(a * a, win) - ma * ma
    vb = box(b * b, win) - mb * mb
    cov = box(a * b, win) - ma * mb
    l = (2 * ma * mb + C1) / (ma * ma + mb * mb + C1)
    cs = (2 * cov + C2) / (va + vb + C2)
    return l, cs


def masked_ssim(a, b, m, win):
    l, cs = ssim_parts(a, b, win)
    return masked_mean(l * cs, box(m, win))


def ms_scales(r, win):
    n = 1
    while n < 5 and r / 2 ** n >= win + 1:
        n += 1
    return n


def masked_ms_ssim(a, b, m, win):
    n = ms_scales(a.shape[1], win)
    ws = MS_WEIGHTS[:n]
    value = 1
    for j in range(n):
        if j > 0:
            a, b, m = Model.pool(a), Model.pool(b), Model.pool(m)
        l, cs = ssim_parts(a, b, win)
        w = box(m, win)
        term = masked_mean(l * cs if j == n - 1 else cs, w)
        if term.item() <= EPS:
            sys.exit(f'MS-SSIM term {term.item()} at scale {j} is clamped: pick other seeds or weights')
        value = value * term ** (ws[j] / sum(ws))
    return value


def masked_gradient_l1(a, b, m):
    d = a - b
    h, w = a.shape[1], a.shape[2]
    total = 0
    for dy, dx in ((0, 1), (1, 0)):
        d1, d0 = d[:, dy:, dx:], d[:, :h - dy, :w - dx]
        m1, m0 = m[:, dy:, dx:], m[:, :h - dy, :w - dx]
        total = total + ((d1 - d0).abs() * torch.minimum(m1, m0)).sum()
    return total / (m.sum() * a.shape[3] + EPS)


def uses_ms_ssim(loss, r):
    ms = loss.get('msssim', True)
    if ms is True:
        return r >= 128
    if ms is False:
        return False
    return r >= ms


def reconstruction_loss(y, x, m, loss):
    """loss.ts's reconstructionLoss: detail * G + l1 * L1 + ssim * (1 - S) / 2, each averaged over the mask."""
    total = 0
    if loss.get('detail', 0) > 0:
        total = total + masked_gradient_l1(y, x, m) * loss['detail']
    if loss['l1'] > 0:
        total = total + masked_mean((y - x).abs(), m) * loss['l1']
    if loss['ssim'] > 0:
        win = loss['window']
        s = masked_ms_ssim(y, x, m, win) if uses_ms_ssim(loss, x.shape[1]) else masked_ssim(y, x, m, win)
        total = total + (1 - s) * (loss['ssim'] / 2)
    return total


def train_steps(plan, params32, x, m, case):
    """`steps` Adam steps on the batch (x, m) from params32 (training-mode batch norm): losses, final weights."""
    p = case['params']
    params = {k: v.double().requires_grad_(True) for k, v in params32.items()}
    opt = torch.optim.Adam(params.values(), lr=p['lr'], betas=(p.get('beta1', 0.9), p.get('beta2', 0.999)),
                           eps=p.get('epsilon', 1e-8))
    losses = []
    for _ in range(case['steps']):
        model = Model(plan, params, None, training=True)
        loss = reconstruction_loss(model.decode(model.encode(x)), x, m, p['loss'])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return torch.stack(losses), params


def run_case(case, seed):
    plan = Plan(case)
    g = torch.Generator().manual_seed(seed)
    params32, buffers32 = init_values(plan, g)
    b, r = case['batch'], case['resolution']
    x32 = torch.rand((b, r, r, 3), generator=g, dtype=torch.float32)
    m32 = soft_mask(b, r)

    params = {k: v.double().requires_grad_(True) for k, v in params32.items()}
    x, m = x32.double(), m32.double()
    model = Model(plan, params, None, training=True)
    z = model.encode(x)
    y = model.decode(z)
    loss = reconstruction_loss(y, x, m, case['params']['loss'])
    names = sorted(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names])

    running = {}
    for name, (mean, var) in model.stats.items():
        running[f'{name}.bn.mean'] = buffers32[f'{name}.bn.mean'].double() * (1 - BN_MOMENTUM) + mean * BN_MOMENTUM
        running[f'{name}.bn.var'] = buffers32[f'{name}.bn.var'].double() * (1 - BN_MOMENTUM) + var * BN_MOMENTUM
    evaluated = Model(plan, params, {k: v.double() for k, v in buffers32.items()}, training=False)
    y_eval = evaluated.decode(evaluated.encode(x))

    t = {'input.x': x32, 'input.mask': m32, 'out.z': z, 'out.y': y, 'out.loss': loss.reshape(1), 'out.yEval': y_eval}
    t.update({f'param.{n}': v for n, v in params32.items()})
    t.update({f'buffer.{n}': v for n, v in buffers32.items()})
    t.update({f'grad.{n}': gr for n, gr in zip(names, grads)})
    t.update({f'running.{n}': v for n, v in running.items()})
    if case.get('steps'):
        losses, trained = train_steps(plan, params32, x, m, case)
        t['steps.loss'] = losses
        t.update({f'steps.param.{n}': v for n, v in trained.items()})
    return t


def main():
    if sys.byteorder != 'little':
        sys.exit('writes little-endian float32: run on a little-endian machine')
    os.makedirs(OUT, exist_ok=True)
    blob = array('f')
    index = {'generator': 'bench/reference/comb_reference.py', 'torch': torch.__version__,
             'dtype': 'float32 little-endian', 'data': 'comb.f32', 'cases': []}
    for k, case in enumerate(CASES):
        tensors = {}
        for name, v in run_case(case, seed=1000 + k).items():
            flat = v.detach().to(torch.float32).reshape(-1).tolist()
            tensors[name] = {'offset': len(blob), 'shape': list(v.shape)}
            blob.extend(flat)
        entry = {k2: case[k2] for k2 in ('name', 'identity', 'resolution', 'alpha', 'batch', 'steps', 'params') if k2 in case}
        entry['tensors'] = tensors
        index['cases'].append(entry)
        loss = blob[tensors['out.loss']['offset']]
        print(f"{case['name']}: loss {loss:.6f}, {sum(1 for n in tensors if n.startswith('grad.'))} gradients")
    with open(os.path.join(OUT, 'comb.f32'), 'wb') as f:
        blob.tofile(f)
    text = json.dumps(index, indent=1)
    # one line per tensor: {"offset": n, "shape": [..]}
    text = re.sub(r'\[\s*([\d,\s]*?)\s*\]', lambda m: '[' + ''.join(m.group(1).split()) + ']', text)
    text = re.sub(r'\{\s*("offset": \d+),\s*("shape": \[[\d,]*\])\s*\}', r'{\1, \2}', text)
    with open(os.path.join(OUT, 'comb.json'), 'w') as f:
        f.write(text + '\n')
    print(f'wrote {OUT}/comb.json and comb.f32 ({len(blob) * 4} bytes)')


if __name__ == '__main__':
    main()
