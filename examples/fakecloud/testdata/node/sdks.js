// Drives examples/fakecloud with Alibaba Cloud's official Node.js SDKs: the
// ACS3 clients (sts20150401 on openapi-core, the generic openapi-client
// with a form body) and the older RPC clients (kms20160120 on rpc-client,
// pop-core with GET and POST). Prints one line per check; exits 1 if any
// failed. Run by node_test.go.
const fs = require('fs');
// The command's JSON output, in the file named by the first argument.
const out = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const p = (name) => out.principals.find((x) => x.name === name);
const key = out.keys.find((k) => k.name === 'security/app-data');
const svc = p('app-1/service');
const results = [];
const check = (what, ok, detail) => { results.push(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ': ' + detail : ''}`); if (!ok) process.exitCode = 1; };

async function main() {
  // 1. @alicloud/sts20150401 on @alicloud/openapi-core: ACS3-HMAC-SHA256.
  {
    const Sts = require('@alicloud/sts20150401').default;
    const { $OpenApiUtil } = require('@alicloud/openapi-core');
    const cfg = new $OpenApiUtil.Config({ accessKeyId: svc.accessKeyId, accessKeySecret: svc.accessKeySecret,
      endpoint: out.endpoint, protocol: 'http', regionId: 'cn-hangzhou' });
    const client = new Sts(cfg);
    try {
      const r = await client.getCallerIdentity();
      check('sts20150401 (openapi-core, ACS3) GetCallerIdentity', r.body.arn === svc.arn, r.body.arn);
    } catch (e) { check('sts20150401 GetCallerIdentity', false, e.message); }
    // AssumeRole, then the session through the same SDK.
    const pipe = p('management/pipeline');
    const pc = new Sts(new $OpenApiUtil.Config({ accessKeyId: pipe.accessKeyId, accessKeySecret: pipe.accessKeySecret,
      endpoint: out.endpoint, protocol: 'http', regionId: 'cn-hangzhou' }));
    try {
      const { AssumeRoleRequest } = require('@alicloud/sts20150401');
      const app1 = p('app-1');
      const r = await pc.assumeRole(new AssumeRoleRequest({ roleArn: `acs:ram::${app1.accountId}:role/resourcedirectoryaccountaccessrole`, roleSessionName: 'node' }));
      const c = r.body.credentials;
      const sc = new Sts(new $OpenApiUtil.Config({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken,
        endpoint: out.endpoint, protocol: 'http', regionId: 'cn-hangzhou' }));
      const who = await sc.getCallerIdentity();
      check('sts20150401 AssumeRole + session GetCallerIdentity', who.body.arn.includes(':assumed-role/'), who.body.arn);
    } catch (e) { check('sts20150401 AssumeRole', false, e.message); }
  }
  // 2. @alicloud/kms20160120 on @alicloud/rpc-client: the older RPC signature.
  {
    const Kms = require('@alicloud/kms20160120').default;
    const kmsmod = require('@alicloud/kms20160120');
    const { Config } = require('@alicloud/rpc-client');
    const client = new Kms(new Config({ accessKeyId: svc.accessKeyId, accessKeySecret: svc.accessKeySecret,
      endpoint: out.endpoint, protocol: 'http', regionId: 'cn-hangzhou' }));
    try {
      const g = await client.generateDataKey(new kmsmod.GenerateDataKeyRequest({ keyId: key.arn }));
      const d = await client.decrypt(new kmsmod.DecryptRequest({ ciphertextBlob: g.ciphertextBlob }));
      check('kms20160120 (rpc-client) GenerateDataKey + Decrypt', d.plaintext === g.plaintext, g.keyId);
    } catch (e) { check('kms20160120 GenerateDataKey', false, e.message); }
  }
  // 3. @alicloud/pop-core: the classic client, GET and POST.
  {
    const RPCClient = require('@alicloud/pop-core');
    const client = new RPCClient({ accessKeyId: svc.accessKeyId, accessKeySecret: svc.accessKeySecret,
      endpoint: `http://${out.endpoint}`, apiVersion: '2016-01-20' });
    for (const method of ['GET', 'POST']) {
      try {
        const r = await client.request('DescribeKey', { KeyId: key.arn, RegionId: 'cn-hangzhou' }, { method });
        check(`pop-core ${method} DescribeKey`, r.KeyMetadata.KeyId === key.id, r.KeyMetadata.KeyId);
      } catch (e) { check(`pop-core ${method} DescribeKey`, false, e.message); }
    }
    try {
      await new RPCClient({ accessKeyId: svc.accessKeyId, accessKeySecret: 'wrong', endpoint: `http://${out.endpoint}`, apiVersion: '2016-01-20' })
        .request('DescribeKey', { KeyId: key.arn }, { method: 'POST' });
      check('pop-core wrong secret refused', false, 'accepted');
    } catch (e) { check('pop-core wrong secret refused', e.code === 'SignatureDoesNotMatch', e.code); }
  }
  // 4. @alicloud/openapi-client: the generic ACS3 client, POST with a form body.
  {
    const OpenApi = require('@alicloud/openapi-client');
    const Util = require('@alicloud/tea-util');
    const client = new OpenApi.default(new OpenApi.Config({ accessKeyId: svc.accessKeyId, accessKeySecret: svc.accessKeySecret,
      endpoint: out.endpoint, protocol: 'http', regionId: 'cn-hangzhou' }));
    const params = new OpenApi.Params({ action: 'Encrypt', version: '2016-01-20', protocol: 'HTTP', pathname: '/', method: 'POST',
      authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    try {
      const r = await client.callApi(params, new OpenApi.OpenApiRequest({ body: { KeyId: key.arn, Plaintext: 'aGVsbG8=' } }), new Util.RuntimeOptions({}));
      check('openapi-client (ACS3) POST form Encrypt', r.body.KeyId === key.id, r.body.KeyId);
    } catch (e) { check('openapi-client Encrypt', false, e.message); }
  }
  console.log(results.join('\n'));
}
main();
