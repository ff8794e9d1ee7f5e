// DEV-ONLY in-memory backend, used when the dev server is opened with `?mock`.
// Never part of a production build (see getTransport() in ./index.ts).
//   ?mock            sandbox on, engine idle → running, a few hundred orders, live changes
//   ?mock&nokeyring  also reports the OS keyring as unavailable
//   ?mock&live       sandbox off (providers configured)
//   ?mock&quiet      no spontaneous order changes (stable screenshots)
//   ?mock&many       100,000 orders (to feel the virtualized board)
import type { Transport, Unlisten } from './index';
import type {
  AppStatus,
  BalanceRow,
  ChangeBatch,
  Committed,
  EngineSettings,
  FieldMessage,
  ImportField,
  ImportPreview,
  ImportRequest,
  Locale,
  NewOrderInput,
  Order,
  OrderEvent,
  OrderQuery,
  OrderState,
  PhoneInfo,
  Preflight,
  ProductKind,
  ProviderId,
  ProviderSettingsView,
  ProviderStats,
  RowResult,
  SettingsView,
  StateCounts,
} from './types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const JUHE_FACES = [1, 2, 5, 10, 20, 30, 50, 100, 300];
const PERMILLE: Record<ProviderId, number> = { dingyin: 985, oper: 990, juhe: 995 };

/** Small deterministic PRNG so screenshots are stable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fail = (code: string, message: string) => ({ code, message });

function estimated(provider: ProviderId, face: number): number {
  return Math.ceil((face * PERMILLE[provider]) / 1000);
}

function parseFaceText(text: string): number | null {
  const m = /^\s*(\d+)(?:\.(\d{1,3}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
}

/**
 * A few real 7-digit segments (the backend embeds all of them: src-tauri/crates/providers/data/,
 * from phone.dat 2004; these answers are `scripts/gen-segments.py … --lookup NUMBER`'s), then the
 * carrier alone by the first 3 digits, like the backend for segments the table does not know.
 */
const SEGMENTS: [string, PhoneInfo['carrier'], string, string][] = [
  ['1380013', 'mobile', '北京', '北京'],
  ['1381234', 'mobile', '江苏', '连云港'],
  ['1391234', 'mobile', '江苏', '常州'],
  ['1351234', 'mobile', '重庆', '重庆'],
  ['1592000', 'mobile', '广东', '深圳'],
  ['1861234', 'unicom', '北京', '北京'],
  ['1561234', 'unicom', '河北', '张家口'],
  ['1311234', 'unicom', '广东', '珠海'],
  ['1891234', 'telecom', '江苏', '常州'],
  ['1810800', 'telecom', '四川', '成都'],
  ['1531234', 'telecom', '江苏', '淮安'],
];
const CARRIER_BY_3: Record<string, PhoneInfo['carrier']> = {
  ...Object.fromEntries(
    '134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198'
      .split(' ')
      .map((p) => [p, 'mobile']),
  ),
  ...Object.fromEntries('130 131 132 145 155 156 166 171 175 176 185 186 196'.split(' ').map((p) => [p, 'unicom'])),
  ...Object.fromEntries('133 149 153 173 177 180 181 189 190 191 193 199'.split(' ').map((p) => [p, 'telecom'])),
};

function phoneInfoOf(number: string, juheConfigured: boolean, faceLi: number | null): PhoneInfo {
  const seg = SEGMENTS.find(([p]) => number.startsWith(p));
  const carrier = seg ? seg[1] : (CARRIER_BY_3[number.slice(0, 3)] ?? null);
  const region = { province: seg ? seg[2] : null, city: seg ? seg[3] : null };
  if (!juheConfigured || carrier === null) {
    return { carrier, ...region, source: 'segment', supported: null, message: null };
  }
  // The simulator's juhe names the carrier only ("全国移动"): the region stays the segment's.
  const ok = faceLi === null || JUHE_FACES.includes(faceLi / 1000);
  return {
    carrier,
    ...region,
    source: 'telcheck',
    supported: ok,
    message: ok ? '可以充值 / can be topped up' : '该面值暂不支持 / face value not sold',
  };
}

export function createMockTransport(search: string): Transport {
  const q = new URLSearchParams(search);
  const live = q.has('live');
  const quiet = q.has('quiet');
  const rand = rng(20250607);
  const now0 = Date.now();

  // ---------------------------------------------------------------- settings
  const defaults: Record<ProviderId, Record<string, unknown>> = {
    dingyin: {
      base_url: 'https://api.dingyin.example/api',
      query_base_url: 'https://query.dingyin.example/api',
      userid: '',
      timeout_ms: 15000,
      connect_timeout_ms: 5000,
      concurrency: 8,
      requests_per_second: 20,
    },
    oper: {
      base_url: 'https://api.oper.example',
      uid: '',
      notify_url: '',
      timeout_ms: 15000,
      connect_timeout_ms: 5000,
      concurrency: 8,
      requests_per_second: 10,
    },
    juhe: {
      base_url: 'https://op.juhe.cn/ofpay/mobile',
      openid: '',
      timeout_ms: 15000,
      connect_timeout_ms: 5000,
      concurrency: 4,
      requests_per_second: 5,
    },
  };
  const providers: ProviderSettingsView[] = (['dingyin', 'oper', 'juhe'] as ProviderId[]).map((id) => ({
    id,
    configured: live && id !== 'oper',
    hasSecret: live && id !== 'oper',
    settings: live && id !== 'oper' ? { ...defaults[id], [id === 'dingyin' ? 'userid' : 'openid']: '10086' } : {},
    defaults: defaults[id],
    plainHttp: [],
  }));
  // The engine's check (topup_providers::plain_http_fields), as far as the mock needs it.
  const plainHttp = (settings: Record<string, unknown>) =>
    ['base_url', 'query_base_url'].filter((k) => {
      const v = settings[k];
      return typeof v === 'string' && v.startsWith('http://') && !/^http:\/\/(localhost|127\.|\[::1\])/.test(v);
    });
  let engine: EngineSettings = {
    query_delays_ms: [10000, 30000, 60000, 120000, 300000, 600000],
    retry_delay_ms: 5000,
    resend_after_not_found_ms: 60000,
    max_not_found_resends: 3,
    manual_review_after_ms: 2 * DAY,
    stuck_rules: [],
    callback_query_gap_ms: 10_000,
    routing: { phone: 'juhe', electricity: 'dingyin', game: 'dingyin', douyin: 'dingyin' },
    fallback: {},
    duplicate_window_ms: DAY,
    callback: {
      enabled: true,
      bind: '127.0.0.1',
      port: 18600,
      public_url: null,
      max_body_bytes: 16384,
      max_header_bytes: 16384,
      max_connections: 256,
      max_connections_per_ip: 32,
      max_requests_per_second: 5000,
      max_requests_per_second_per_ip: 1000,
      header_timeout_ms: 5000,
      request_timeout_ms: 10000,
      idle_timeout_ms: 30000,
      shutdown_grace_ms: 2000,
      trusted_proxies: ['127.0.0.1', '::1'],
      refusal_log_first: 10,
      refusal_summary_secs: 60,
    },
    low_balance: { dingyin: 1_000_000, oper: 500_000, juhe: 200_000 },
    auto_refresh_balance_secs: 300,
    balance_drift_tolerance_li: 100,
    prices: { entries: [], markups: [] },
  };
  const sandbox = () => !providers.some((p) => p.configured);
  const settingsView = (): SettingsView => ({
    sandbox: sandbox(),
    providers: structuredClone(providers),
    engine: structuredClone(engine),
    defaultProviders: Object.fromEntries((['phone', 'electricity', 'game', 'douyin'] as const).map((k) => [k, defaultProvider(k)])),
    callbackListening: engine.callback.enabled ? `${engine.callback.bind}:${engine.callback.port || 18600}` : null,
    dataDir: '/home/demo/.local/share/topup-desk',
    dbPath: '/home/demo/.local/share/topup-desk/orders.sqlite3',
  });

  const status: AppStatus = {
    version: '0.1.0-dev',
    dataDir: '/home/demo/.local/share/topup-desk',
    dbPath: '/home/demo/.local/share/topup-desk/orders.sqlite3',
    engine: 'idle',
    sandbox: sandbox(),
    locale: q.get('lang') === 'en' ? 'en' : 'zh-CN',
    attentionCount: 0,
    overdueCount: 0,
    keyring: q.has('nokeyring')
      ? {
          available: false,
          message:
            '无法访问系统密钥环（Secret Service）。请安装并启动 gnome-keyring 或 KeePassXC 的 Secret Service 集成，然后重启充值台。',
        }
      : { available: true, message: null },
    callbackUrl: 'http://127.0.0.1:18600',
  };

  // ------------------------------------------------------------------ orders
  const orders: Order[] = [];
  const byId = new Map<string, Order>();
  const events = new Map<string, OrderEvent[]>();
  let seq = 0;
  let batchSeq = 41;

  function makeOrder(p: Partial<Order> & Pick<Order, 'kind' | 'provider' | 'account' | 'face'>, at: number): Order {
    seq += 1;
    const id = String(seq);
    const o: Order = {
      id,
      merchantOrderId: `TD${new Date(at).toISOString().slice(2, 19).replace(/\D/g, '')}${Array.from({ length: 8 }, () => 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'[Math.floor(rand() * 31)]).join('')}`,
      productId: null,
      details: {},
      cost: null,
      state: 'new',
      providerOrderId: null,
      batchId: null,
      resubmitOf: null,
      fallbackOf: null,
      sale: null,
      saleSource: null,
      customer: null,
      profit: null,
      createdAt: at,
      updatedAt: at,
      submittedAt: null,
      finishedAt: null,
      attempts: 0,
      nextActionAt: null,
      lastError: null,
      attention: false,
      note: null,
      queries: 0,
      lastQueryAt: null,
      stuck: 'none',
      ...p,
    };
    orders.push(o);
    byId.set(id, o);
    events.set(id, [{ id: `${id}-0`, at, kind: 'created', fromState: null, toState: 'new', detail: '订单已创建 / order created' }]);
    return o;
  }

  function addEvent(o: Order, e: Omit<OrderEvent, 'id'>) {
    const list = events.get(o.id) ?? [];
    list.push({ id: `${o.id}-${list.length}`, ...e });
    events.set(o.id, list);
  }

  function exchange(o: Order, at: number, kind: 'submit' | 'query', reply: Record<string, unknown>) {
    const url =
      o.provider === 'juhe'
        ? `https://op.juhe.cn/ofpay/mobile/${kind === 'submit' ? 'onlineorder' : 'ordersta'}`
        : o.provider === 'dingyin'
          ? `https://api.dingyin.example/api/${kind === 'submit' ? 'order' : 'query'}`
          : `https://api.oper.example/${kind === 'submit' ? 'recharge' : 'query'}`;
    addEvent(o, {
      at,
      kind: 'exchange',
      fromState: null,
      toState: null,
      detail: JSON.stringify({
        method: 'POST',
        url,
        request: { orderid: o.merchantOrderId, phone: o.account, cardnum: o.face / 1000, key: '***', sign: '***' },
        status: 200,
        response: reply,
        error: null,
        elapsed_ms: 80 + Math.floor(rand() * 400),
      }),
    });
  }

  function setState(o: Order, to: OrderState, at: number, detail = '') {
    const from = o.state;
    if (from === to) return;
    o.state = to;
    o.updatedAt = at;
    if (to === 'submitting') {
      o.submittedAt = at;
      o.attempts += 1;
    }
    if (to === 'accepted') {
      o.providerOrderId = o.providerOrderId ?? `P${Math.floor(rand() * 1e10)}`;
      o.cost = o.cost ?? estimated(o.provider, o.face);
    }
    if (to === 'succeeded' || to === 'failed') o.finishedAt = at;
    if (to === 'manual_review' || to === 'unknown') o.attention = to === 'manual_review' || o.attention;
    if (to === 'succeeded' || to === 'failed') o.attention = false;
    addEvent(o, { at, kind: 'state', fromState: from, toState: to, detail });
  }

  const ACCOUNTS = ['13812345678', '13987654321', '18612340000', '18955551234', '13511112222', '17788889999', '15633334444'];
  function randomPhone(): string {
    const seg = SEGMENTS[Math.floor(rand() * SEGMENTS.length)][0];
    return seg + String(Math.floor(rand() * 1e8)).padStart(8, '0');
  }

  function seedOrder(at: number, batchId: string | null) {
    const r = rand();
    const kind: ProductKind = r < 0.78 ? 'phone' : r < 0.88 ? 'electricity' : r < 0.95 ? 'game' : 'douyin';
    const provider: ProviderId = kind !== 'phone' ? 'dingyin' : (['juhe', 'oper', 'dingyin'] as ProviderId[])[Math.floor(rand() * 3)];
    const face = (kind === 'phone' ? [10, 20, 30, 50, 100, 200][Math.floor(rand() * 6)] : [50, 100, 200][Math.floor(rand() * 3)]) * 1000;
    const account =
      kind === 'phone'
        ? rand() < 0.1
          ? ACCOUNTS[Math.floor(rand() * ACCOUNTS.length)]
          : randomPhone()
        : kind === 'electricity'
          ? String(3100000000 + Math.floor(rand() * 1e8))
          : kind === 'game'
            ? `player${Math.floor(rand() * 100000)}`
            : `dy_${Math.floor(rand() * 1e7)}`;
    const details: Record<string, unknown> =
      kind === 'electricity'
        ? { electricity: { grid: rand() < 0.7 ? 'state' : 'south', mobile: '13800001111', province: '广东' } }
        : kind === 'game'
          ? { area: '电信一区', server: '紫禁之巅', quantity: 1 }
          : {};
    const o = makeOrder(
      { kind, provider, account, face, details, batchId, productId: kind === 'game' ? '10021' : null },
      at,
    );
    const x = rand();
    const age = now0 - at;
    let target: OrderState;
    if (age < 60_000) target = x < 0.3 ? 'submitting' : x < 0.7 ? 'accepted' : 'succeeded';
    else if (x < 0.74) target = 'succeeded';
    else if (x < 0.84) target = 'failed';
    else if (x < 0.9) target = 'accepted';
    else if (x < 0.94) target = 'unknown';
    else if (x < 0.975) target = 'manual_review';
    else target = 'new';
    if (target === 'new') return;
    setState(o, 'submitting', at + 200);
    if (target === 'submitting') return;
    if (target === 'failed' && rand() < 0.5) {
      exchange(o, at + 400, 'submit', { error_code: 10014, reason: '账户余额不足' });
      o.lastError = '供应商拒绝：账户余额不足 / provider refused: balance too low';
      setState(o, 'failed', at + 450, '供应商拒绝 / refused by provider');
      return;
    }
    exchange(o, at + 400, 'submit', { error_code: 0, reason: '订单提交成功', result: { sporder_id: `J${o.id}` } });
    setState(o, 'accepted', at + 450);
    if (target === 'accepted') return;
    if (target === 'unknown') {
      exchange(o, at + 30_000, 'query', { error_code: 208513, reason: '订单不存在' });
      o.lastError = '查询无此订单 / provider has no such order';
      o.queries = 2;
      o.lastQueryAt = at + 30_000;
      o.attention = true;
      setState(o, 'unknown', at + 30_100, '结果未知 / outcome unknown');
      return;
    }
    if (target === 'manual_review') {
      o.queries = 9;
      o.lastQueryAt = at + 40 * HOUR;
      o.lastError = '超过 48 小时仍无结果 / no outcome after 48 h';
      setState(o, 'manual_review', Math.min(at + 48 * HOUR, now0 - 1000), '需要人工确认 / needs a human');
      return;
    }
    o.queries = 1;
    o.lastQueryAt = at + 60_000;
    if (rand() < 0.4) {
      addEvent(o, {
        at: at + 50_000,
        kind: 'callback',
        fromState: null,
        toState: null,
        detail: JSON.stringify({ sporder_id: `J${o.id}`, orderid: o.merchantOrderId, sta: target === 'succeeded' ? 1 : 9 }),
      });
    } else {
      exchange(o, at + 60_000, 'query', { error_code: 0, result: { game_state: target === 'succeeded' ? '1' : '9' } });
    }
    if (target === 'failed') o.lastError = '运营商返回失败 / carrier reported failure';
    setState(o, target, at + 60_100);
  }

  const count = q.has('many') ? 100_000 : 360;
  const span = q.has('many') ? 30 * DAY : 3 * DAY;
  for (let i = 0; i < count; i++) {
    const at = now0 - span + Math.floor((span * i) / count) + Math.floor(rand() * 1000);
    const batchId = i % 90 < 30 && i < count - 30 ? String(30 + Math.floor(i / 90)) : null;
    seedOrder(at, batchId);
  }
  // One recent duplicate candidate for the order form: 13812345678 × ¥50.
  const dup = makeOrder({ kind: 'phone', provider: 'juhe', account: '13812345678', face: 50_000 }, now0 - 2 * HOUR);
  setState(dup, 'submitting', dup.createdAt + 200);
  setState(dup, 'accepted', dup.createdAt + 500);
  setState(dup, 'succeeded', dup.createdAt + 50_000);

  orders.sort((a, b) => a.createdAt - b.createdAt);

  function attentionCount(): number {
    return orders.reduce((n, o) => n + (o.attention ? 1 : 0), 0);
  }
  status.attentionCount = attentionCount();

  function counts(list: Iterable<Order>): StateCounts {
    const c: StateCounts = { new: 0, submitting: 0, accepted: 0, unknown: 0, succeeded: 0, failed: 0, manualReview: 0, attention: 0, overdue: 0 };
    for (const o of list) {
      if (o.state === 'manual_review') c.manualReview += 1;
      else c[o.state] += 1;
      if (o.attention) c.attention += 1;
    }
    return c;
  }

  function matches(o: Order, qy: OrderQuery): boolean {
    if (qy.states.length && !qy.states.includes(o.state)) return false;
    if (qy.provider && o.provider !== qy.provider) return false;
    if (qy.batchId && o.batchId !== qy.batchId) return false;
    if (qy.createdFrom !== null && o.createdAt < qy.createdFrom) return false;
    if (qy.createdTo !== null && o.createdAt > qy.createdTo) return false;
    if (qy.needsAttention && !o.attention) return false;
    if (qy.search) {
      const s = qy.search.trim();
      if (!o.account.includes(s) && o.merchantOrderId !== s && o.id !== s && o.providerOrderId !== s) return false;
    }
    return true;
  }

  // ------------------------------------------------------------------ events
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const emit = (event: string, payload: unknown) =>
    listeners.get(event)?.forEach((h) => h(structuredClone(payload)));
  let pending: ChangeBatch = { orders: {}, batches: {}, counts: null, settings: false, lagged: false };
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  function changed(o: Order) {
    pending.orders[o.id] = structuredClone(o);
    if (o.batchId) pending.batches[o.batchId] = counts(orders.filter((x) => x.batchId === o.batchId));
    pending.counts = counts(orders);
    if (!flushTimer) {
      flushTimer = setTimeout(() => {
        flushTimer = null;
        const b = pending;
        pending = { orders: {}, batches: {}, counts: null, settings: false, lagged: false };
        emit('orders://changed', b);
        const n = attentionCount();
        if (n !== status.attentionCount) {
          status.attentionCount = n;
          emit('engine://status', status);
        }
      }, 100);
    }
  }

  /** Drives an order through the states the sandbox simulator would. */
  function run(o: Order, startDelay: number) {
    const step = (ms: number, f: () => void) => setTimeout(f, ms);
    step(startDelay, () => {
      setState(o, 'submitting', Date.now());
      changed(o);
      step(500 + rand() * 600, () => {
        if (o.account.endsWith('0000')) {
          setState(o, 'unknown', Date.now(), '结果未知 / outcome unknown');
          o.attention = true;
          changed(o);
          return;
        }
        exchange(o, Date.now(), 'submit', { error_code: 0, reason: '订单提交成功' });
        setState(o, 'accepted', Date.now());
        changed(o);
        step(1200 + rand() * 2500, () => {
          const ok = !o.account.endsWith('4') || rand() < 0.5;
          exchange(o, Date.now(), 'query', { error_code: 0, result: { game_state: ok ? '1' : '9' } });
          if (!ok) o.lastError = '运营商返回失败 / carrier reported failure';
          setState(o, ok ? 'succeeded' : 'failed', Date.now());
          changed(o);
        });
      });
    });
  }

  function tick() {
    if (quiet) return;
    const inflight = orders.filter((o) => o.state === 'accepted' || o.state === 'submitting');
    if (inflight.length && rand() < 0.7) {
      const o = inflight[Math.floor(rand() * inflight.length)];
      if (o.state === 'submitting') setState(o, 'accepted', Date.now());
      else setState(o, rand() < 0.85 ? 'succeeded' : 'failed', Date.now());
      changed(o);
    } else if (rand() < 0.5) {
      const o = makeOrder({ kind: 'phone', provider: 'juhe', account: randomPhone(), face: 30_000 }, Date.now());
      changed(o);
      run(o, 300);
    }
  }
  let ticking = false;

  // ------------------------------------------------------------------ import
  const imported = new Map<string, { batchId: string; fileName: string; createdAt: number }>();
  function hashOf(bytes: number[]): string {
    let h = 2166136261;
    for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
    return `${h.toString(16)}-${bytes.length}`;
  }

  function preview(req: ImportRequest): ImportPreview {
    if (!req.bytes.length) throw fail('import_empty', '文件是空的 / the file is empty');
    const hash = hashOf(req.bytes);
    const sheets = [
      { name: '订单', hidden: false },
      { name: '旧数据', hidden: true },
    ];
    const sheet = req.sheet ?? '订单';
    const hidden = sheet === '旧数据';
    const col = (letter: string, header: string) => ({ letter, header });
    const mapping = req.mapping;
    const columns: ImportPreview['layout']['columns'] = mapping
      ? Object.entries(mapping).map(([c, f]) => [f as ImportField, col(c, ({ A: '手机号', B: '面值(元)', C: '备注', D: '运营商' } as Record<string, string>)[c] ?? c)])
      : [
          ['account', col('A', '手机号')],
          ['face', col('B', '面值(元)')],
          ['note', col('C', '备注')],
        ];
    const accountCol = columns.find(([f]) => f === 'account')?.[1] ?? null;
    const faceCol = columns.find(([f]) => f === 'face')?.[1] ?? null;
    const provider = req.provider;
    const rows: RowResult[] = [];
    const data: [string, string, string][] = [
      ['13812345678', '50', '张三'],
      ['13987654321', '100', ''],
      ['1391234567', '50', '少一位'],
      ['18612345678', '30', ''],
      ['18955551234', '25', ''],
      ['', '', ''],
      ['13511112222', '10.5', ''],
      ['17788889999', '20', ''],
      ['13987654321', '100', '与第 3 行重复'],
      ['15633334444', 'abc', ''],
      ['13800138000', '200', ''],
      ['18900001111', '300', ''],
    ];
    const cr = (c: typeof accountCol) => (c ? { letter: c.letter, header: c.header } : null);
    // A file whose name contains "good" has only good rows (to try the commit and progress view).
    const good = req.fileName.includes('good');
    (good ? data.filter((_, i) => [1, 3, 7, 11].includes(i)) : data).forEach(([acc, face, note], idx) => {
      const i = good ? -1 : idx;
      const row = idx + 2;
      if (!acc && !face) {
        rows.push({ row, status: 'skipped', duplicate: false, messages: [], order: null });
        return;
      }
      const messages: RowResult['messages'] = [];
      if (!accountCol) messages.push({ level: 'error', code: 'no_account_column', column: null, zh: '没有充值账号列', en: 'no account column' });
      if (!faceCol) messages.push({ level: 'error', code: 'no_face_column', column: null, zh: '没有面值列', en: 'no face column' });
      if (accountCol && !/^1\d{10}$/.test(acc))
        messages.push({ level: 'error', code: 'not_a_phone', column: cr(accountCol), zh: `“${acc}”不是 11 位手机号`, en: `“${acc}” is not an 11-digit mobile number` });
      const li = parseFaceText(face);
      if (faceCol && li === null)
        messages.push({ level: 'error', code: 'bad_face', column: cr(faceCol), zh: `面值“${face}”不是金额`, en: `face “${face}” is not an amount` });
      else if (faceCol && li !== null && provider === 'juhe' && !JUHE_FACES.includes(li / 1000))
        messages.push({ level: 'error', code: 'face_not_sold', column: cr(faceCol), zh: `聚合不销售 ${face} 元面值（可选 1、2、5、10、20、30、50、100、300）`, en: `juhe does not sell ¥${face} (1, 2, 5, 10, 20, 30, 50, 100, 300)` });
      else if (faceCol && li !== null && li % 1000 !== 0)
        messages.push({ level: 'error', code: 'face_not_whole', column: cr(faceCol), zh: `话费面值必须是整元：${face}`, en: `phone face must be whole yuan: ${face}` });
      if (acc === '13812345678' && !req.allowDuplicates)
        messages.push({ level: 'error', code: 'duplicate_in_book', column: cr(accountCol), zh: '24 小时内已有相同账号和面值的订单（订单 #' + dup.id + '）', en: `an order for the same account and amount exists within 24 h (order #${dup.id})` });
      if (i === 8)
        messages.push({ level: req.allowDuplicates ? 'warning' : 'error', code: 'duplicate_in_file', column: cr(accountCol), zh: '与第 3 行重复', en: 'same as row 3' });
      if (note === '张三') messages.push({ level: 'warning', code: 'note_ignored', column: col('C', '备注'), zh: '备注只保存在本地', en: 'the note is kept locally only' });
      const dupe = messages.some((m) => m.code.startsWith('duplicate'));
      const invalid = messages.some((m) => m.level === 'error' && !m.code.startsWith('duplicate'));
      const status: RowResult['status'] = invalid ? 'invalid' : dupe && !req.allowDuplicates ? 'duplicate' : 'valid';
      rows.push({
        row,
        status,
        duplicate: dupe,
        messages,
        order:
          li !== null && !invalid
            ? { kind: 'phone', account: acc, face: li, productId: null, details: {}, note: note || null, estimatedCost: estimated(provider, li), sale: null, saleSource: null, customer: null }
            : null,
      });
    });
    const t = { rows: rows.length, valid: 0, invalid: 0, duplicates: 0, skipped: 0, warnings: 0, faceTotal: 0, estimatedCost: 0 };
    for (const r of rows) {
      if (r.messages.some((m) => m.level === 'warning')) t.warnings += 1;
      if (r.status === 'valid') {
        t.valid += 1;
        t.faceTotal += r.order?.face ?? 0;
        t.estimatedCost += r.order?.estimatedCost ?? 0;
      } else if (r.status === 'invalid') t.invalid += 1;
      else if (r.status === 'duplicate') t.duplicates += 1;
      else t.skipped += 1;
    }
    const prev = imported.get(hash);
    const previousImports = prev
      ? [prev]
      : req.fileName.includes('again')
        ? [{ batchId: '29', fileName: req.fileName, createdAt: now0 - 5 * HOUR }]
        : [];
    const bal = balanceOf(provider);
    const fileMessages: ImportPreview['fileMessages'] = [];
    if (hidden) fileMessages.push({ level: 'warning', code: 'hidden_sheet', column: null, zh: `工作表“${sheet}”是隐藏的`, en: `sheet “${sheet}” is hidden` });
    for (const p of previousImports)
      fileMessages.push({ level: req.allowDuplicates ? 'warning' : 'error', code: 'file_imported_before', column: null, zh: `同一文件（内容相同）已导入为批次 ${p.batchId}（${p.fileName}）`, en: `the same file was imported as batch ${p.batchId} (${p.fileName})` });
    return {
      fileName: req.fileName,
      contentHash: hash,
      format: req.fileName.endsWith('.csv') ? 'text' : 'xlsx',
      encoding: req.fileName.endsWith('.csv') ? 'gbk' : null,
      sheets: req.fileName.endsWith('.csv') ? [] : sheets,
      sheet: req.fileName.endsWith('.csv') ? null : sheet,
      sheetHidden: hidden,
      provider,
      layout: { headerRow: 1, columns, unmapped: mapping ? [] : [col('D', '运营商')] },
      allowDuplicates: req.allowDuplicates,
      duplicateWindowMs: engine.duplicate_window_ms,
      previousImports,
      fileMessages,
      rows,
      totals: t,
      balance: bal,
      balanceSufficient: bal === null ? null : bal >= t.estimatedCost,
      previewedAt: Date.now(),
    };
  }

  // ---------------------------------------------------------------- balances
  const balanceLi: Record<ProviderId, number> = { dingyin: 12_345_678, oper: 86_500, juhe: 5_020_000 };
  function balanceOf(p: ProviderId): number | null {
    return balanceLi[p];
  }
  function balanceRow(p: ProviderId): BalanceRow {
    const threshold = engine.low_balance[p] ?? null;
    const configured = providers.find((x) => x.id === p)!.configured;
    if (!sandbox() && !configured) {
      return { provider: p, balance: null, error: '未配置该供应商 / provider not configured', readAt: Date.now(), sandbox: false, lowThreshold: threshold, low: false };
    }
    const b = balanceLi[p];
    return { provider: p, balance: b, error: null, readAt: Date.now(), sandbox: sandbox(), lowThreshold: threshold, low: threshold !== null && b < threshold };
  }

  function stats(): ProviderStats[] {
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    return (['dingyin', 'oper', 'juhe'] as ProviderId[]).map((p) => {
      const today = orders.filter((o) => o.provider === p && o.createdAt >= start.getTime());
      const hourly = Array.from({ length: 24 }, () => 0);
      for (const o of today) hourly[new Date(o.createdAt).getHours()] += 1;
      const succeeded = today.filter((o) => o.state === 'succeeded').length;
      const failed = today.filter((o) => o.state === 'failed').length;
      const done = succeeded + failed;
      return {
        provider: p,
        ordersToday: today.length,
        succeededToday: succeeded,
        failedToday: failed,
        pendingToday: today.length - done,
        spendToday: today.filter((o) => o.state === 'succeeded').reduce((s, o) => s + (o.cost ?? 0), 0),
        successRateBp: done ? Math.round((succeeded * 10000) / done) : 0,
        hourly,
      };
    });
  }

  // ----------------------------------------------------------------- orders
  function defaultProvider(kind: ProductKind): ProviderId {
    return engine.routing[kind] ?? (kind === 'phone' ? 'juhe' : 'dingyin');
  }

  function preflight(input: NewOrderInput): Preflight {
    // A fake of the engine's order check (the real one: src-tauri/crates/engine/src/order/).
    const provider = input.provider ?? defaultProvider(input.kind);
    const messages: FieldMessage[] = [];
    const err = (code: string, field: ImportField | null, zh: string, en: string) =>
      messages.push({ level: 'error', code, field, zh, en });
    const face = parseFaceText(input.face);
    if (face === null || face === 0) err('face_not_money', 'face', '面值无效', 'invalid face value');
    if (input.kind !== 'phone' && provider !== 'dingyin')
      err('kind_not_sold', 'kind', `${provider} 不销售该类商品`, `${provider} does not sell this product`);
    if (input.kind === 'phone') {
      if (!/^1\d{10}$/.test(input.account)) err('not_a_phone', 'account', '手机号应为 11 位数字', 'a mobile number has 11 digits');
      if (provider === 'juhe' && face !== null && !JUHE_FACES.includes(face / 1000))
        err('face_not_sold', 'face', '聚合只销售 1、2、5、10、20、30、50、100、300 元', 'juhe sells only ¥1, 2, 5, 10, 20, 30, 50, 100, 300');
      else if (face !== null && face % 1000 !== 0) err('face_not_whole', 'face', '话费面值必须是整元', 'phone face must be whole yuan');
    }
    if (input.kind === 'electricity' && input.electricity) {
      if (input.electricity.grid === 'state' && !input.electricity.mobile) err('missing_value', 'payerMobile', '国网需要缴费手机号', 'State Grid needs the payer mobile');
      if (input.electricity.grid === 'south' && !input.electricity.idCard) err('missing_value', 'idCard', '南网需要身份证号', 'Southern Grid needs the ID card number');
    }
    if (input.kind === 'game' && !input.productId) err('missing_value', 'product', '游戏需要商品编号', 'a game order needs a product id');
    const since = Date.now() - engine.duplicate_window_ms;
    const duplicates = orders.filter((o) => o.account === input.account && o.face === face && o.createdAt >= since);
    return {
      provider,
      phone: input.kind === 'phone' && /^1\d{10}$/.test(input.account) ? phoneInfoOf(input.account, provider === 'juhe', face) : null,
      cost: face === null ? null : estimated(provider, face),
      costSource: provider === 'juhe' ? '聚合 telquery inprice' : `${provider} 折扣 ${PERMILLE[provider] / 10}%`,
      duplicates: structuredClone(duplicates),
      duplicateWindowMs: engine.duplicate_window_ms,
      problems: messages.map((m) => `${m.zh} / ${m.en}`),
      messages,
      soldFaces: provider === 'juhe' && input.kind === 'phone' ? JUHE_FACES : null,
    };
  }

  function need(id: unknown): Order {
    const o = byId.get(String(id));
    if (!o) throw fail('not_found', `没有订单 ${String(id)} / no order ${String(id)}`);
    return o;
  }

  return {
    async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      const a = args ?? {};
      await new Promise((r) => setTimeout(r, 60 + Math.random() * 120));
      const out = (v: unknown) => structuredClone(v) as T;
      switch (cmd) {
        case 'app_status':
          status.sandbox = sandbox();
          return out(status);
        case 'set_locale': {
          const l = a.locale;
          if (l !== 'zh-CN' && l !== 'en') throw fail('invalid_locale', `unsupported locale: ${String(l)}`);
          status.locale = l as Locale;
          return null as T;
        }
        case 'list_orders': {
          const qy = a.query as OrderQuery;
          const all: Order[] = [];
          for (let i = orders.length - 1; i >= 0; i--) if (matches(orders[i], qy)) all.push(orders[i]);
          return out({ total: all.length, orders: all.slice(qy.offset, qy.offset + qy.limit) });
        }
        case 'order_detail': {
          const o = need(a.id);
          return out({ order: o, events: events.get(o.id) ?? [] });
        }
        case 'state_counts':
          return out(counts(orders));
        case 'batch_counts':
          return out(counts(orders.filter((o) => o.batchId === a.batchId)));
        case 'phone_info': {
          const n = String(a.number);
          if (!/^1\d{10}$/.test(n)) throw fail('invalid_phone', '手机号应为 11 位数字 / a mobile number has 11 digits');
          const f = typeof a.face === 'string' ? parseFaceText(a.face) : null;
          return out(phoneInfoOf(n, providers.find((p) => p.id === 'juhe')!.configured || sandbox(), f));
        }
        case 'order_preflight':
          return out(preflight(a.input as NewOrderInput));
        case 'add_order': {
          const input = a.input as NewOrderInput;
          const pf = preflight(input);
          if (pf.problems.length) throw fail('invalid_order', pf.problems.join('；').replace(/ \/ [^；]*/g, '') + ' / ' + pf.problems.map((p) => p.split(' / ')[1]).join('; '));
          const details: Record<string, unknown> = {};
          if (input.area) details.area = input.area;
          if (input.server) details.server = input.server;
          if (input.quantity) details.quantity = input.quantity;
          if (input.electricity) details.electricity = input.electricity;
          const o = makeOrder(
            { kind: input.kind, provider: pf.provider, account: input.account, face: parseFaceText(input.face)!, productId: input.productId, details },
            Date.now(),
          );
          changed(o);
          run(o, 400);
          return out(o);
        }
        case 'query_order': {
          const o = need(a.id);
          o.queries += 1;
          o.lastQueryAt = Date.now();
          exchange(o, Date.now(), 'query', { error_code: 0, result: { game_state: '1' } });
          if (o.state === 'accepted' || o.state === 'unknown') {
            setState(o, 'succeeded', Date.now(), '查询结果：成功 / query: succeeded');
            changed(o);
          }
          return out(o);
        }
        case 'resolve_order': {
          const o = need(a.id);
          const note = String(a.note ?? '').trim();
          if (!note) throw fail('note_required', '请填写处理说明 / a note is required');
          if (!(o.state === 'manual_review' || o.attention)) throw fail('invalid_state', '该订单无需人工处理 / order does not need a human');
          o.note = note;
          addEvent(o, { at: Date.now(), kind: 'note', fromState: null, toState: null, detail: note });
          setState(o, a.outcome === 'succeeded' ? 'succeeded' : 'failed', Date.now(), '人工处理 / resolved by hand');
          o.attention = false;
          changed(o);
          return out(o);
        }
        case 'resubmit_order': {
          const old = need(a.id);
          if (old.state !== 'failed') throw fail('invalid_state', '只有失败的订单可以重新提交 / only failed orders can be resubmitted');
          const o = makeOrder(
            { kind: old.kind, provider: old.provider, account: old.account, face: old.face, productId: old.productId, details: old.details, resubmitOf: old.id, batchId: old.batchId },
            Date.now(),
          );
          changed(o);
          run(o, 300);
          return out(o);
        }
        case 'export_orders': {
          const qy = a.query as OrderQuery;
          const rows = orders.filter((o) => matches(o, qy)).length;
          const ext = a.format === 'csv' ? 'csv' : 'xlsx';
          return out({ path: `/home/demo/文档/充值台导出-${new Date().toISOString().slice(0, 10)}.${ext}`, rows });
        }
        case 'balances':
          return out((['dingyin', 'oper', 'juhe'] as ProviderId[]).map(balanceRow));
        case 'provider_stats':
          return out(stats());
        case 'get_settings':
          return out(settingsView());
        case 'save_provider': {
          const p = providers.find((x) => x.id === a.id);
          if (!p) throw fail('unknown_provider', `未知供应商 ${String(a.id)} / unknown provider`);
          if (!p.hasSecret && !a.secret) throw fail('secret_required', '请填写密钥 / the secret is required');
          p.settings = structuredClone(a.settings as Record<string, unknown>);
          p.plainHttp = plainHttp(p.settings);
          p.configured = true;
          if (a.secret) p.hasSecret = true;
          status.sandbox = sandbox();
          emit('engine://status', status);
          return out(settingsView());
        }
        case 'remove_provider': {
          const p = providers.find((x) => x.id === a.id)!;
          p.configured = false;
          p.hasSecret = false;
          p.settings = {};
          p.plainHttp = [];
          status.sandbox = sandbox();
          emit('engine://status', status);
          return out(settingsView());
        }
        case 'test_provider': {
          const id = a.id as ProviderId;
          const p = providers.find((x) => x.id === id)!;
          if (!p.configured && !sandbox()) throw fail('not_configured', '未配置该供应商 / provider not configured');
          if (id === 'oper' && !sandbox()) throw fail('provider_auth', '签名错误（密钥不对？） / bad signature (wrong secret?)');
          return out(balanceRow(id));
        }
        case 'save_engine_settings': {
          engine = structuredClone(a.settings as EngineSettings);
          return out(settingsView());
        }
        case 'import_preview':
          return out(preview(a.request as ImportRequest));
        case 'import_commit': {
          const req = a.request as ImportRequest;
          const p = preview(req);
          if (p.totals.invalid || p.totals.duplicates || (p.previousImports.length && !req.allowDuplicates))
            throw fail('import_not_clean', '有无效或重复的行，请先修正 / invalid or duplicate rows: fix them first');
          batchSeq += 1;
          const batchId = String(batchSeq);
          imported.set(p.contentHash, { batchId, fileName: req.fileName, createdAt: Date.now() });
          let k = 0;
          for (const r of p.rows) {
            if (r.status !== 'valid' || !r.order) continue;
            const o = makeOrder({ kind: 'phone', provider: req.provider, account: r.order.account, face: r.order.face, batchId }, Date.now());
            changed(o);
            run(o, 500 + k * 450);
            k += 1;
          }
          const committed: Committed = {
            batchId,
            orders: k,
            skippedInvalid: 0,
            firstMerchantOrderId: null,
            lastMerchantOrderId: null,
          };
          return out(committed);
        }
        default:
          throw fail('unknown_command', `mock backend has no command ${cmd}`);
      }
    },
    async listen<T>(event: string, handler: (payload: T) => void): Promise<Unlisten> {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const h = handler as (p: unknown) => void;
      set.add(h);
      // Pretend the engine starts shortly after the UI connects.
      if (event === 'engine://status' && status.engine === 'idle') {
        setTimeout(() => {
          status.engine = 'running';
          emit('engine://status', status);
        }, 400);
      }
      if (!ticking) {
        ticking = true;
        setInterval(tick, 1500);
      }
      return () => set.delete(h);
    },
  };
}
