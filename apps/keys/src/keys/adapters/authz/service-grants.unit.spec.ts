import { isBuiltInServiceGrant } from './service-grants';

describe('built-in service grants', () => {
  it('lets the rotation scheduler rotate, destroy and expire import tokens', () => {
    for (const a of ['keys:RotateKey', 'keys:DestroyKey', 'keys:ExpireImportToken']) expect(isBuiltInServiceGrant('service:rotation', a)).toBe(true);
  });
  it('never grants data-plane operations, other services, or look-alike principal ids', () => {
    for (const a of ['keys:GenerateDataKey', 'keys:Decrypt', 'keys:Encrypt', 'keys:ReEncrypt', 'keys:CreateKey', 'keys:*']) {
      expect(isBuiltInServiceGrant('service:rotation', a)).toBe(false);
    }
    expect(isBuiltInServiceGrant('service:audit', 'keys:RotateKey')).toBe(false);
    expect(isBuiltInServiceGrant('p-service:rotation', 'keys:RotateKey')).toBe(false);
    expect(isBuiltInServiceGrant('Service:rotation', 'keys:RotateKey')).toBe(false);
  });
});
