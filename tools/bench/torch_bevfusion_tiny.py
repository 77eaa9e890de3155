#!/usr/bin/python3
"""PyTorch twin of bevzip's `bevf-tiny` fusion model, for the train-step benchmark.

Same layers, shapes, initial-state-independent cost and losses as
packages/bev-fusion/src/model (camera backbone c1..c6, LSS neck, 1x1 depth net, lift and bev_pool,
PointPillars PFN with masked max and scatter, ConvFuser, SECOND/FPN-tiny, CenterHead and map head)
and packages/bev-fusion/src/task/losses.ts (GaussianFocal + 0.25 * L1 + per-class focal), trained
with AdamW (lr 1e-3, weight decay 0.01) and gradient-norm clipping at 35. bev_pool and the pillar
scatter are index_add_ over flattened (sample, cell) ids.

Run with Debian's interpreter, which sees python3-torch:
    /usr/bin/python3 tools/bench/torch_bevfusion_tiny.py --threads 1 [--batch FILE] [--steps N]
`--batch FILE` reads a batch written by `bevzip bench train-step` (FILE.json header + FILE.bin),
so both frameworks train on identical inputs; without it inputs are random with the same shapes.
Prints one JSON object: {"threads", "steps", "stepMs" (median), "stepMsAll", "loss"}.
With `--serve` it warms up, prints {"ready": true}, then takes one step per `step` line on stdin and
prints {"ms", "loss"} for it; `bevzip bench train-step` alternates these with its own steps.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

B, CAMS, H, W = 2, 6, 32, 88
FH, FW, D, CTX = 8, 22, 24, 32
GRID = 64
P, M, PF = 3072, 12, 9
K, REG, KMAP = 6, 10, 2
CODE_WEIGHTS = [1.0] * 8 + [0.2, 0.2]


def cbr(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU())


class TinyFusion(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [16, 16, 32, 32, 64, 64]
        cin, layers = 3, []
        for i, w in enumerate(widths):
            layers.append(cbr(cin, w, 3, 2 if i % 2 == 0 else 1))
            cin = w
        self.backbone = nn.ModuleList(layers)
        self.lateral = cbr(32 + 64, 32, 1)
        self.neck_out = cbr(32, 32)
        self.depthnet = nn.Conv2d(32, D + CTX, 1)
        self.pfn_linear = nn.Linear(PF, 32, bias=False)
        self.pfn_bn = nn.BatchNorm1d(32, eps=1e-5, momentum=0.1)
        self.fuser = cbr(64, 32)
        self.blocks = nn.Sequential(cbr(32, 48, 3, 2), cbr(48, 48), cbr(48, 96, 3, 2), cbr(96, 96))
        self.deblock0 = cbr(48, 32, 1)
        self.deblock1 = cbr(96, 32, 1)
        self.shared = cbr(64, 32)
        self.heatmap = nn.Conv2d(32, K, 3, 1, 1)
        nn.init.constant_(self.heatmap.bias, -2.19)
        self.reg = nn.Conv2d(32, REG, 3, 1, 1)
        self.map_conv = cbr(64, 32)
        self.map_cls = nn.Conv2d(32, KMAP, 1)

    def camera(self, images, cam_index):
        x, taps = images, []
        for layer in self.backbone:
            x = layer(x)
            taps.append(x)
        up = F.interpolate(taps[5], scale_factor=2, mode='bilinear', align_corners=False)
        neck = self.neck_out(self.lateral(torch.cat([taps[3], up], 1)))
        out = self.depthnet(neck).permute(0, 2, 3, 1)  # NHWC, as bevzip lifts
        alpha = out[..., :D].softmax(-1)
        lifted = alpha.unsqueeze(-1) * out[..., D:].unsqueeze(-2)  # [B*6, fH, fW, D, C]
        frustum = lifted.reshape(-1, CTX)
        return self.pool(frustum, cam_index)

    @staticmethod
    def pool(features, index):
        b = index.shape[0]
        flat = index.reshape(b, -1)
        offsets = torch.arange(b).unsqueeze(1) * GRID * GRID
        valid = (flat >= 0).reshape(-1)
        cells = (flat + offsets).reshape(-1)[valid]
        out = features.new_zeros(b * GRID * GRID, features.shape[-1])
        out.index_add_(0, cells, features[valid])
        return out.reshape(b, GRID, GRID, -1).permute(0, 3, 1, 2)

    def lidar(self, feats, mask, coords):
        y = self.pfn_linear(feats)
        y = F.relu(self.pfn_bn(y.reshape(-1, 32)).reshape(y.shape))
        real = (mask != 0).unsqueeze(-1)
        pooled = torch.where(real, y, torch.full_like(y, -3.4e38)).amax(2)
        pooled = torch.where(real.any(2), pooled, torch.zeros_like(pooled))
        cell = coords[..., 0] * GRID + coords[..., 1]
        cell = torch.where(coords[..., 0] >= 0, cell, torch.full_like(cell, -1))
        return self.pool(pooled.reshape(-1, 32), cell)

    def forward(self, batch):
        cam = self.camera(batch['images'], batch['cam_bev_index'])
        lid = self.lidar(batch['pillar_features'], batch['pillar_mask'], batch['pillar_coords'])
        fused = self.fuser(torch.cat([cam, lid], 1))
        s1 = self.blocks[1](self.blocks[0](fused))
        s2 = self.blocks[3](self.blocks[2](s1))
        bev = torch.cat([self.deblock0(s1), self.deblock1(F.interpolate(s2, scale_factor=2, mode='nearest'))], 1)
        shared = self.shared(bev)
        m = F.interpolate(self.map_conv(bev), scale_factor=2, mode='bilinear', align_corners=False)
        return self.heatmap(shared), self.reg(shared), self.map_cls(m)


def gaussian_focal(logits, target):
    p = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = (target == 1).float()
    pos_loss = -torch.log(p + 1e-12) * (1 - p) ** 2 * pos
    neg_loss = -torch.log(1 - p + 1e-12) * p ** 2 * (1 - target) ** 4
    return (pos_loss + neg_loss).sum() / pos.sum().clamp(min=1)


def reg_l1(pred, target, weight):
    w = weight * torch.tensor(CODE_WEIGHTS)
    num = (weight[..., :1] > 0).float().sum().clamp(min=1)
    return ((pred - target).abs() * w).sum() / num


def map_focal(logits, target):
    ce = F.softplus(logits) - logits * target
    p = logits.sigmoid()
    pt = p * target + (1 - p) * (1 - target)
    return (ce * (1 - pt) ** 2).mean((0, 1, 2)).sum()


def nchw(t):
    return t.permute(0, 3, 1, 2).contiguous()


def load_batch(path):
    header = json.load(open(path + '.json'))
    raw = open(path + '.bin', 'rb').read()
    out = {}
    for t in header['tensors']:
        dtype = torch.int32 if t['dtype'] == 'int32' else torch.float32
        data = torch.frombuffer(bytearray(raw[t['offset']:t['offset'] + t['bytes']]), dtype=dtype)
        out[t['name']] = data.reshape(t['shape']).to(torch.int64 if dtype == torch.int32 else torch.float32)
    return out


def random_batch():
    g = torch.Generator().manual_seed(0)
    index = torch.randint(-GRID * GRID // 2, GRID * GRID, (B, CAMS * FH * FW * D), generator=g).clamp(min=-1)
    coords = torch.stack([torch.randperm(GRID * GRID, generator=g)[:P] for _ in range(B)])
    return {
        'images': torch.rand(B * CAMS, H, W, 3, generator=g),
        'cam_bev_index': index,
        'pillar_features': torch.randn(B, P, M, PF, generator=g),
        'pillar_mask': (torch.rand(B, P, M, generator=g) < 0.3).float(),
        'pillar_coords': torch.stack([coords // GRID, coords % GRID], -1),
        'heatmap': torch.rand(B, GRID // 2, GRID // 2, K, generator=g) ** 8,
        'reg': torch.randn(B, GRID // 2, GRID // 2, REG, generator=g),
        'regWeight': (torch.rand(B, GRID // 2, GRID // 2, 1, generator=g) < 0.01).float().expand(-1, -1, -1, REG),
        'map': (torch.rand(B, GRID, GRID, KMAP, generator=g) < 0.3).float(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--batch', default=None)
    ap.add_argument('--serve', action='store_true',
                    help='after warm-up, take one step per "step" line on stdin and print its time, '
                         'so a caller can alternate its own steps with these ones')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load_batch(args.batch) if args.batch else random_batch()
    batch = dict(data, images=nchw(data['images']))
    model = TinyFusion().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    def step():
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        heat, reg, seg = model(batch)
        total = (gaussian_focal(heat.permute(0, 2, 3, 1), data['heatmap'])
                 + 0.25 * reg_l1(reg.permute(0, 2, 3, 1), data['reg'], data['regWeight'])
                 + map_focal(seg.permute(0, 2, 3, 1), data['map']))
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 35.0)
        opt.step()
        loss = total.item()
        return (time.perf_counter() - start) * 1000, loss

    for _ in range(args.warmup):
        step()
    if args.serve:
        print(json.dumps({'ready': True, 'threads': args.threads}), flush=True)
        for line in sys.stdin:
            if line.strip() != 'step':
                break
            ms, loss = step()
            print(json.dumps({'ms': round(ms, 3), 'loss': loss}), flush=True)
        return
    times, loss = [], float('nan')
    for _ in range(args.steps):
        ms, loss = step()
        times.append(ms)
    print(json.dumps({'threads': args.threads, 'steps': args.steps, 'stepMs': statistics.median(times),
                      'stepMsAll': [round(t, 2) for t in times], 'loss': loss}))


if __name__ == '__main__':
    main()
