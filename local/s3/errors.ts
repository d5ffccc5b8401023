/**
 * S3-style errors. Anything thrown as an S3Error is rendered as
 * `<Error><Code>..</Code><Message>..</Message></Error>` with its status code;
 * anything else becomes a 500 InternalError.
 */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    extra: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }
}

export const errors = {
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) => new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      'InvalidArgument',
      400,
      message,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  invalidRange: (size: number) =>
    new S3Error(
      'InvalidRange',
      416,
      'The requested range is not satisfiable',
      { ActualObjectSize: String(size) },
      { 'Content-Range': `bytes */${size}` },
    ),
  invalidURI: () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI."),
  keyTooLong: () => new S3Error('KeyTooLongError', 400, 'Your key is too long'),
  malformedXML: () =>
    new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  missingContentLength: () =>
    new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
  incompleteBody: (message = 'You did not provide the number of bytes specified by the Content-Length HTTP header') =>
    new S3Error('IncompleteBody', 400, message),
  badDigest: (message = 'The Content-MD5 you specified did not match what we received.') =>
    new S3Error('BadDigest', 400, message),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  sha256Mismatch: () =>
    new S3Error(
      'XAmzContentSHA256Mismatch',
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
  entityTooLarge: () =>
    new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed object size.'),
  entityTooSmall: () =>
    new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  invalidPart: () =>
    new S3Error(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error(
      'InvalidPartOrder',
      400,
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  conditionalConflict: () =>
    new S3Error(
      'ConditionalRequestConflict',
      409,
      'A conflicting conditional operation is currently in progress against this resource.',
    ),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      501,
      `A header or query you provided implies functionality that is not implemented: ${what}`,
    ),
  methodNotAllowed: (method: string) =>
    new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', {
      Method: method,
      ResourceType: 'OBJECT',
    }),
  internal: () => new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
};
