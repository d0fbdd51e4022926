export * from './types';
export * from './window';
export * from './service';
