import { registerEnumType } from 'type-graphql';
import { ErrorCode } from '../domain/errors.js';

registerEnumType(ErrorCode, { name: 'ErrorCode', description: 'The error codes of the public contract (extensions.code).' });
